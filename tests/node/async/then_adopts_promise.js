// Rule: a .then callback that returns a promise makes the chain adopt it: two ticks later than returning a plain value, for a settled promise and for an async function's promise alike.
const log = (s) => console.log(s);
async function later(v) {
  await null;
  return v + ' (async)';
}
Promise.resolve('a')
  .then((v) => Promise.resolve(v + ' (settled)'))
  .then((v) => log('adopted: ' + v));
Promise.resolve('b')
  .then((v) => later(v))
  .then((v) => log('adopted: ' + v));
Promise.resolve('c')
  .then((v) => v + ' (value)')
  .then((v) => log('plain: ' + v));
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 6) queueMicrotask(count);
};
queueMicrotask(count);
