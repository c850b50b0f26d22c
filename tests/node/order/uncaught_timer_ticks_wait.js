// Rule: when an uncaughtException handler takes a timer's error, the ticks and microtasks that timer queued wait for the next due timer of the same pass, and run in its drain.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
setTimeout(() => {
  console.log('timer A throws');
  process.nextTick(() => console.log('tick from A'));
  queueMicrotask(() => console.log('microtask from A'));
  throw new Error('A');
}, 10);
setTimeout(() => {
  console.log('timer B');
  process.nextTick(() => console.log('tick from B'));
}, 10);
setImmediate(() => console.log('immediate'));
block(25); // both timers are due in the first pass
