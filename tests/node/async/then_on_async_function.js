// Rule: .then on an async function's promise runs one tick after the function's body returns (the promise settles, then its reaction runs), FIFO with the other microtasks.
const log = (s) => console.log(s);
async function f() {
  await null;
  return 'f';
}
f().then((v) => log('then: ' + v));
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 3) queueMicrotask(count);
};
queueMicrotask(count);
