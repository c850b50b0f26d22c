// Rule: with an uncaughtException handler, a throwing timer's error goes to the handler at once; the other due timers and immediates still run.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
setTimeout(() => {
  console.log('timer 1 throws');
  setImmediate(() => console.log('immediate from timer 1'));
  throw new Error('boom');
}, 10);
setTimeout(() => console.log('timer 2 (same pass)'), 10);
setTimeout(() => console.log('timer 3 (100 ms)'), 100);
block(25); // timers 1 and 2 are both due in the first pass
