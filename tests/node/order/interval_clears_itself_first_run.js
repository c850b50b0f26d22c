// Rule: an interval cleared during its first run never runs again, and its ticks/microtasks still drain.
const iv = setInterval(() => {
  console.log('interval run');
  clearInterval(iv);
  process.nextTick(() => console.log('tick after clear'));
  queueMicrotask(() => console.log('micro after clear'));
}, 10);
setTimeout(() => console.log('timeout 40 (interval did not repeat)'), 40);
