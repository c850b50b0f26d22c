// Rule: a rejection with no handler is reported ('unhandledRejection') once the tick and microtask queues of the drain it happened in are empty: after the ticks and microtasks queued around it, before the next immediate or timer.
process.on('unhandledRejection', (reason) => console.log('unhandledRejection', reason));
async function fail(reason) {
  throw reason;
}
setTimeout(() => console.log('timeout'), 50);
setImmediate(() => console.log('immediate'));
fail('from main');
process.nextTick(() => console.log('tick'));
Promise.resolve().then(() => {
  console.log('microtask');
  process.nextTick(() => console.log('tick from the microtask'));
});
console.log('main');
