// Rule: after an I/O callback, ticks then microtasks drain before the check phase and the next timers.
const fs = require('fs');
fs.readFile(__filename, () => {
  console.log('readFile callback');
  setTimeout(() => console.log('timeout 0'), 0);
  setImmediate(() => console.log('immediate'));
  Promise.resolve().then(() => console.log('promise'));
  process.nextTick(() => console.log('tick'));
  queueMicrotask(() => console.log('microtask'));
  process.nextTick(() => console.log('tick 2'));
});
