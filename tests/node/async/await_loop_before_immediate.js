// Rule: an async loop of 5 awaits of plain values runs entirely in one microtask drain, before any immediate or timer.
const log = (s) => console.log(s);
setTimeout(() => log('timeout 50'), 50);
setImmediate(() => log('immediate'));
(async () => {
  for (let i = 1; i <= 5; i++) {
    await i;
    log('await ' + i + ' done');
  }
})();
log('main end');
