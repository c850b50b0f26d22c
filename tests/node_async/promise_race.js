// Rule: Promise.race settles with the first input to settle (10 ms), fulfilled or rejected; the others still run to completion.
const log = (s) => console.log(s);
const job = (name, ms, ok) =>
  new Promise((resolve, reject) => setTimeout(() => {
    log(name + (ok ? ' resolves' : ' rejects') + ' at ' + ms + ' ms');
    if (ok) resolve(name);
    else reject(new Error(name + ' failed'));
  }, ms));
(async () => {
  log('race 1 winner: ' + (await Promise.race([job('a', 30, true), job('b', 10, true), job('c', 20, false)])));
  try {
    await Promise.race([job('d', 20, true), job('e', 10, false)]);
  } catch (err) {
    log('race 2 rejected: ' + err.message);
  }
})();
log('main end');
