// Rule: dns.lookup of an IP literal answers on a next tick queued by the call; a name goes to the thread pool and answers in the poll phase (before the immediates and timers it schedules).
const dns = require('dns');
dns.lookup('127.0.0.1', (err, address, family) => console.log('literal', err, address, family));
dns.lookup('localhost', { family: 4 }, (err, address, family) => {
  console.log('localhost v4', err, address, family);
  setImmediate(() => console.log('immediate after lookup'));
  setTimeout(() => console.log('timeout after lookup'), 0);
});
process.nextTick(() => console.log('tick'));
Promise.resolve().then(() => console.log('microtask'));
console.log('main end');
