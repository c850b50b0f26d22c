// Rule: a .then chain on a promise a timer settles runs in the drain right after that timer callback, link by link, before the next due timer; a next tick queued in a link waits for the microtask queue to empty; an immediate waits for the check phase.
const log = (s) => console.log(s);
const delay = (ms, v) =>
  new Promise((resolve) => setTimeout(() => {
    log('timer ' + ms + ' settles ' + v);
    resolve(v);
  }, ms));
delay(50, 'x')
  .then((v) => {
    log('then 1: ' + v);
    process.nextTick(() => log('tick from then 1'));
    setImmediate(() => log('immediate from then 1'));
    setTimeout(() => log('timeout 0 from then 1'), 0);
    return v + 'y';
  })
  .then((v) => log('then 2: ' + v))
  .catch((err) => log('catch (skipped): ' + err))
  .finally(() => log('finally'))
  .then(() => log('then after finally'));
setTimeout(() => log('second timer 50'), 50);
log('main end');
