// Rule: a generator that is dropped (never resumed, no return()) stays at its pending yield: the code after that yield and its finally never run.
const log = (s) => console.log(s);
async function* numbers() {
  try {
    for (let i = 1; ; i++) {
      log('gen: yield ' + i);
      yield i;
      log('gen: resumed after ' + i);
    }
  } finally {
    log('gen: finally (never)');
  }
}
(async () => {
  const it = numbers();
  log('got ' + (await it.next()).value);
  log('got ' + (await it.next()).value);
  log('dropped');
})();
setTimeout(() => log('timeout 50'), 50);
log('main end');
