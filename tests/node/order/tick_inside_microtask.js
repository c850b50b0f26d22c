// Rule: a nextTick scheduled inside a microtask runs only after the whole microtask queue is empty.
process.nextTick(() => console.log('tick A'));
queueMicrotask(() => {
  console.log('micro 1');
  process.nextTick(() => console.log('tick from micro 1'));
  queueMicrotask(() => console.log('micro 3 (from micro 1)'));
});
queueMicrotask(() => console.log('micro 2'));
setImmediate(() => console.log('immediate'));
