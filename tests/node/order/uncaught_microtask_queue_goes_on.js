// Rule: when an uncaughtException handler takes a microtask's error, the rest of the microtask queue runs at once, then the ticks, before the next immediate.
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
setImmediate(() => {
  console.log('immediate 1');
  queueMicrotask(() => {
    console.log('microtask A throws');
    process.nextTick(() => console.log('tick from A'));
    queueMicrotask(() => console.log('microtask from A'));
    throw new Error('A');
  });
  queueMicrotask(() => console.log('microtask B'));
});
setImmediate(() => console.log('immediate 2'));
