// Rule: Promise.any ignores rejections (50 ms) and fulfils with the first input to fulfil (100 ms); the slowest still settles later.
const log = (s) => console.log(s);
const job = (name, ms, ok) =>
  new Promise((resolve, reject) => setTimeout(() => {
    log(name + (ok ? ' resolves' : ' rejects') + ' at ' + ms + ' ms');
    if (ok) resolve(name);
    else reject(new Error(name + ' failed'));
  }, ms));
(async () => {
  const winner = await Promise.any([job('a', 150, true), job('b', 50, false), job('c', 100, true)]);
  log('any: ' + winner);
})();
log('main end');
