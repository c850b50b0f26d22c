// Rule: a .then chain advances one link per microtask tick, FIFO with the other microtasks (after the next ticks); a rejection passes through a .then in one tick to the next .catch, and the chain goes on after it.
const log = (s) => console.log(s);
Promise.resolve(1)
  .then((v) => {
    log('then A: ' + v);
    return v + 1;
  })
  .then((v) => log('then B: ' + v));
Promise.reject(new Error('no'))
  .then(() => log('then (skipped)'))
  .catch((err) => {
    log('catch: ' + err.message);
    return 'recovered';
  })
  .then((v) => log('then after catch: ' + v));
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 4) queueMicrotask(count);
};
queueMicrotask(count);
process.nextTick(() => log('tick'));
log('main end');
