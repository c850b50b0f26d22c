// Rule: a warning (here setTimeout's TimeoutOverflowWarning, and process.emitWarning) is emitted on a next tick queued by the call that caused it: after the ticks queued before it, before any microtask, never inside the call.
process.on('warning', (w) => console.log('warning', w.name, JSON.stringify(w.message)));
process.nextTick(() => console.log('tick before'));
setTimeout(() => {
  console.log('timeout 1 ms');
  setImmediate(() => {
    console.log('immediate');
    process.emitWarning('from an immediate');
    process.nextTick(() => console.log('tick after it'));
  });
}, 2 ** 32);
console.log('after setTimeout');
process.nextTick(() => console.log('tick between'));
process.emitWarning('custom', { type: 'MyWarning', code: 'E1' });
Promise.resolve().then(() => console.log('microtask'));
console.log('main done');
