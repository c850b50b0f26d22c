// Rule: .finally runs its callback one tick after the promise settles, as .then does, but passes the outcome on two ticks later (its promise adopts one); a rejection passes through it to the next .catch.
const log = (s) => console.log(s);
Promise.resolve('v')
  .finally(() => log('finally (fulfilled)'))
  .then((v) => log('then after finally: ' + v));
Promise.reject(new Error('e'))
  .finally(() => log('finally (rejected)'))
  .catch((err) => log('catch after finally: ' + err.message));
Promise.resolve('w')
  .then((v) => log('then: ' + v))
  .then(() => log('then after then'));
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 5) queueMicrotask(count);
};
queueMicrotask(count);
