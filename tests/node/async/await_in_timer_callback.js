// Rule: inside a timer callback, the await continuation runs in the drain right after that callback (after its nextTick), before the immediate and before a setTimeout(0) made there.
const log = (s) => console.log(s);
setTimeout(() => {
  log('timer start');
  setTimeout(() => log('timeout 0 from timer'), 0);
  setImmediate(() => log('immediate from timer'));
  process.nextTick(() => log('tick from timer'));
  (async () => {
    log('async before await');
    await null;
    log('async after await');
    process.nextTick(() => log('tick from async'));
  })();
  queueMicrotask(() => log('queueMicrotask from timer'));
  log('timer end');
}, 10);
