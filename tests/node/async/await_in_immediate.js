// Rule: inside an immediate, the await continuation (and ticks, microtasks) drain before the next immediate already queued; a nested setImmediate waits for the next iteration.
const log = (s) => console.log(s);
setImmediate(() => {
  log('immediate 1 start');
  setImmediate(() => log('immediate 3 (nested in 1)'));
  (async () => {
    log('async before await');
    await null;
    log('async after first await');
    await null;
    log('async after second await');
  })();
  process.nextTick(() => log('tick from immediate 1'));
  log('immediate 1 end');
});
setImmediate(() => log('immediate 2'));
log('main');
