// Rule: a microtask scheduled inside a nextTick runs only after the whole nextTick queue is empty (incl. ticks added meanwhile).
process.nextTick(() => {
  console.log('tick 1');
  queueMicrotask(() => console.log('micro from tick 1'));
  process.nextTick(() => console.log('tick 3 (from tick 1)'));
});
process.nextTick(() => console.log('tick 2'));
queueMicrotask(() => console.log('micro main'));
