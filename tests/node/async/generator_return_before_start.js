// Rule: return() on a generator that never started completes it without running its body (no finally); awaiting it takes two ticks.
const log = (s) => console.log(s);
async function* numbers() {
  try {
    log('gen: start (never)');
    yield 1;
  } finally {
    log('gen: finally (never)');
  }
}
(async () => {
  const it = numbers();
  await it.return();
  log('returned');
})();
queueMicrotask(() => log('micro 1'));
queueMicrotask(() => queueMicrotask(() => log('micro 2')));
log('main end');
