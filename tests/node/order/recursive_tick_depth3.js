// Rule: a recursive nextTick chain of depth 3 drains fully (and then the microtasks) before a due timer runs.
setTimeout(() => console.log('timeout 0'), 0);
function chain(n) {
  console.log('tick depth ' + n);
  if (n < 3) process.nextTick(() => chain(n + 1));
}
process.nextTick(() => chain(1));
queueMicrotask(() => console.log('micro (after all ticks)'));
console.log('main');
