// Rule: when an uncaughtException handler takes an immediate's error, the ticks and microtasks that immediate queued are not drained at once: the next immediate of the same check phase runs first, and its drain runs them.
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
setImmediate(() => {
  console.log('immediate A throws');
  process.nextTick(() => console.log('tick from A'));
  queueMicrotask(() => console.log('microtask from A'));
  throw new Error('A');
});
setImmediate(() => {
  console.log('immediate B');
  process.nextTick(() => console.log('tick from B'));
});
setImmediate(() => console.log('immediate C'));
