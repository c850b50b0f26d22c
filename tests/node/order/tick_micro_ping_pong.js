// Rule: ticks and microtasks alternate in whole-queue batches: ticks drain, then microtasks, repeat until both are empty.
function tick(n) {
  console.log('tick ' + n);
  if (n < 3) queueMicrotask(() => micro(n));
}
function micro(n) {
  console.log('micro ' + n);
  process.nextTick(() => tick(n + 1));
}
process.nextTick(() => tick(1));
queueMicrotask(() => console.log('micro main'));
setImmediate(() => console.log('immediate'));
