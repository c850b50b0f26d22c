// Rule: Promise.all resolves once the last input settles (150 ms); its results are in input order, not settlement order.
const log = (s) => console.log(s);
const job = (name, ms) =>
  new Promise((resolve) => setTimeout(() => {
    log(name + ' resolves at ' + ms + ' ms');
    resolve(name);
  }, ms));
(async () => {
  const results = await Promise.all([job('a', 150), job('b', 50), job('c', 100)]);
  log('all: ' + results.join(','));
})();
log('main end');
