// Rule: a handler attached in a nextTick or a microtask of the same drain is in time (no event); one attached in a setImmediate is late: 'unhandledRejection' first, then 'rejectionHandled' after the callback that handled it.
process.on('unhandledRejection', (reason) => console.log('unhandledRejection', reason));
process.on('rejectionHandled', () => console.log('rejectionHandled'));
async function fail(reason) {
  throw reason;
}
const a = fail('a');
const b = fail('b');
const c = fail('c');
process.nextTick(() => a.catch((e) => console.log('caught', e)));
Promise.resolve().then(() => b.catch((e) => console.log('caught', e)));
setImmediate(() => {
  console.log('immediate');
  c.catch((e) => console.log('caught', e));
  process.nextTick(() => console.log('tick after the late catch'));
});
setTimeout(() => console.log('timeout'), 50);
console.log('main');
