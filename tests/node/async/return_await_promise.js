// Rule: the Rust port of return_promise_extra_ticks: a Rust async block cannot return a promise to adopt, so it awaits it (return await) and settles without the two adoption ticks.
const log = (s) => console.log(s);
async function returnsValue() { return 'value'; }
async function returnsPromise() { return await Promise.resolve('promise'); }
returnsPromise().then((v) => log('settled: ' + v));
returnsValue().then((v) => log('settled: ' + v));
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 4) queueMicrotask(count);
};
queueMicrotask(count);
