// Rule: Promise.any rejects with an AggregateError once every input has rejected (150 ms); err.errors lists the reasons in input order.
const log = (s) => console.log(s);
const job = (name, ms) =>
  new Promise((_, reject) => setTimeout(() => {
    log(name + ' rejects at ' + ms + ' ms');
    reject(new Error(name + ' failed'));
  }, ms));
(async () => {
  try {
    await Promise.any([job('a', 150), job('b', 50), job('c', 100)]);
  } catch (err) {
    log('any rejected: ' + err.constructor.name);
    log('errors: ' + err.errors.map((e) => e.message).join(', '));
  }
})();
log('main end');
