// Rule: break in for await calls the generator's return(): the body resumes at its pending yield and runs its finally one tick after the break; the loop's next statement runs one tick after that; the code after that yield never runs.
const log = (s) => console.log(s);
async function* numbers() {
  try {
    for (let i = 1; ; i++) {
      log('gen: yield ' + i);
      yield i;
      log('gen: resumed after ' + i);
    }
  } finally {
    log('gen: finally');
  }
}
let i = 0;
const count = () => { if (++i <= 4) { log('micro ' + i); queueMicrotask(count); } };
(async () => {
  for await (const n of numbers()) {
    log('got ' + n);
    if (n === 2) {
      queueMicrotask(count);
      process.nextTick(() => log('tick after break'));
      break;
    }
  }
  log('after loop');
})();
log('main end');
