// Rule: Promise.allSettled waits for every input (150 ms), never rejects, and reports each outcome in input order.
const log = (s) => console.log(s);
const job = (name, ms, ok) =>
  new Promise((resolve, reject) => setTimeout(() => {
    log(name + (ok ? ' resolves' : ' rejects') + ' at ' + ms + ' ms');
    if (ok) resolve(name);
    else reject(new Error(name + ' failed'));
  }, ms));
(async () => {
  const outcomes = await Promise.allSettled([job('a', 150, true), job('b', 50, false), job('c', 100, true)]);
  for (const o of outcomes) {
    log(o.status + ': ' + (o.status === 'fulfilled' ? o.value : o.reason.message));
  }
})();
log('main end');
