// Rule: an async function that returns a promise settles two ticks later than one returning a plain value (thenable adoption); a counter chain shows the ticks.
const log = (s) => console.log(s);
async function returnsValue() { return 'value'; }
async function returnsPromise() { return Promise.resolve('promise'); }
returnsPromise().then((v) => log('settled: ' + v));
returnsValue().then((v) => log('settled: ' + v));
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 4) queueMicrotask(count);
};
queueMicrotask(count);
