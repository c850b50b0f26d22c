// Rule: awaiting new Promise(resolve => setTimeout(resolve, 50)) resumes in the drain right after that timer callback, before a later timer and before the next immediates.
const log = (s) => console.log(s);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
(async () => {
  log('async: sleeping 50 ms');
  await sleep(50);
  log('async: woke up');
  setImmediate(() => log('immediate from async'));
  await sleep(50);
  log('async: woke up again');
})();
setTimeout(() => log('timeout 150'), 150);
setImmediate(() => log('immediate from main'));
log('main end');
