// Rule: when an uncaughtException handler takes an I/O callback's error (fs), its ticks and microtasks still run right after it, before the immediates it queued.
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
const fs = require('fs');
fs.readFile(__filename, () => {
  console.log('readFile callback throws');
  setImmediate(() => console.log('immediate from the callback'));
  process.nextTick(() => console.log('tick from the callback'));
  queueMicrotask(() => console.log('microtask from the callback'));
  throw new Error('A');
});
