// Rule: all synchronous main-script code runs before any nextTick, microtask, immediate or timer.
console.log('main start');
setTimeout(() => console.log('timeout 30'), 30);
setImmediate(() => console.log('immediate'));
queueMicrotask(() => console.log('microtask'));
process.nextTick(() => console.log('tick'));
Promise.resolve().then(() => console.log('promise then'));
console.log('main end');
