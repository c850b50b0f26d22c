// Rule: a promisify wrapper turns an (err, value) callback API into a promise: the value fulfils it, the error rejects it, each resumes after its timer.
const log = (s) => console.log(s);
function promisify(fn) {
  return (...args) => new Promise((resolve, reject) => {
    fn(...args, (err, value) => (err ? reject(err) : resolve(value)));
  });
}
function slowAdd(a, b, ms, cb) {
  setTimeout(() => {
    log('slowAdd(' + a + ', ' + b + ') callback after ' + ms + ' ms');
    if (a < 0) cb(new Error('negative input'));
    else cb(null, a + b);
  }, ms);
}
const add = promisify(slowAdd);
(async () => {
  log('sum: ' + (await add(1, 2, 100)));
  try {
    await add(-1, 2, 50);
  } catch (err) {
    log('error: ' + err.message);
  }
})();
add(10, 20, 50).then((v) => log('then sum: ' + v));
log('main end');
