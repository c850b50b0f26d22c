// Rule: Promise.all rejects at the first rejection (100 ms) without waiting; the slower input still runs and settles later (150 ms), JS cannot cancel it.
const log = (s) => console.log(s);
const job = (name, ms, ok) =>
  new Promise((resolve, reject) => setTimeout(() => {
    log(name + (ok ? ' resolves' : ' rejects') + ' at ' + ms + ' ms');
    if (ok) resolve(name);
    else reject(new Error(name + ' failed'));
  }, ms));
(async () => {
  try {
    await Promise.all([job('a', 150, true), job('b', 50, true), job('c', 100, false)]);
    log('all resolved (must not happen)');
  } catch (err) {
    log('all rejected: ' + err.message);
  }
})();
log('main end');
