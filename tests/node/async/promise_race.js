// Rule: Promise.race settles with the first input to settle, fulfilled or rejected; the losers still run to completion later.
const log = (s) => console.log(s);
const job = (name, ms, ok) =>
  new Promise((resolve, reject) => setTimeout(() => {
    log(name + (ok ? ' resolves' : ' rejects') + ' after ' + ms + ' ms');
    if (ok) resolve(name);
    else reject(new Error(name + ' failed'));
  }, ms));
(async () => {
  // race 1 starts at 0 ms: b wins at 50 ms; c settles at 150, a at 300.
  log('race 1 winner: ' + (await Promise.race([job('a', 300, true), job('b', 50, true), job('c', 150, false)])));
  // race 2 starts at ~50 ms: e rejects at ~100 ms and wins; d resolves at ~200.
  try {
    await Promise.race([job('d', 150, true), job('e', 50, false)]);
  } catch (err) {
    log('race 2 rejected: ' + err.message);
  }
})();
log('main end');
