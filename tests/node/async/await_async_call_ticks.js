// Rule: awaiting an async call whose body awaits once resumes two microtask rounds after the start (one for the inner await, one for the outer await of its promise).
const log = (s) => console.log(s);
async function inner() {
  log('inner: before await');
  await null;
  log('inner: after await');
  return 'inner value';
}
(async () => {
  log('outer: got ' + (await inner()));
})();
let n = 0;
const count = () => {
  log('microtask ' + ++n);
  if (n < 3) queueMicrotask(count);
};
queueMicrotask(count);
log('main end');
