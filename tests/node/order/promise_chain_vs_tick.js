// Rule: promise .then chains interleave step by step in one FIFO; nextTicks run first, and a tick queued in a then runs after the whole chain.
process.nextTick(() => console.log('tick 1'));
Promise.resolve()
  .then(() => {
    console.log('chain A step 1');
    process.nextTick(() => console.log('tick 2 (from A1)'));
  })
  .then(() => console.log('chain A step 2'))
  .then(() => console.log('chain A step 3'));
Promise.resolve()
  .then(() => console.log('chain B step 1'))
  .then(() => console.log('chain B step 2'));
queueMicrotask(() => console.log('queueMicrotask'));
console.log('main');
