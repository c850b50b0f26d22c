// Rule: after the main script the whole nextTick queue drains before any microtask (queueMicrotask or promise job).
queueMicrotask(() => console.log('micro 1'));
Promise.resolve().then(() => console.log('promise 1'));
process.nextTick(() => console.log('tick 1'));
queueMicrotask(() => console.log('micro 2'));
process.nextTick(() => console.log('tick 2'));
Promise.resolve().then(() => console.log('promise 2'));
process.nextTick(() => console.log('tick 3'));
console.log('main');
