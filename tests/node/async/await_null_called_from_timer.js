// Rule: called from a timer callback, an async function's "after await" runs right after that callback (after its ticks), before the next due timer.
const log = (s) => console.log(s);
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
async function f(from) {
  log(from + ': before await');
  await null;
  log(from + ': after await');
}
setTimeout(() => {
  process.nextTick(() => log('tick from timer 1'));
  f('timer 1');
  log('timer 1: after call');
}, 10);
setTimeout(() => f('timer 2'), 10);
block(20);
