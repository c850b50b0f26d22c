// Rule: microtasks queued from microtasks run in the same drain, before a tick queued from the first microtask.
function chain(n) {
  console.log('micro depth ' + n);
  if (n === 1) process.nextTick(() => console.log('tick from depth 1'));
  if (n < 4) queueMicrotask(() => chain(n + 1));
}
queueMicrotask(() => chain(1));
setTimeout(() => console.log('timeout'), 0);
console.log('main');
