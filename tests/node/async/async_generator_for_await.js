// Rule: an async generator with awaits between yields, consumed by for await, interleaves with timers by time; a nextTick queued in the loop body waits until the microtask queue empties.
const log = (s) => console.log(s);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function* numbers() {
  log('gen: start');
  yield 1;
  await sleep(100);
  yield 2;
  await null;
  await sleep(100);
  yield 3;
  log('gen: done');
}
setTimeout(() => log('timeout 50'), 50);
setTimeout(() => log('timeout 150'), 150);
(async () => {
  for await (const n of numbers()) {
    log('got ' + n);
    process.nextTick(() => log('tick after ' + n));
  }
  log('loop done');
})();
process.nextTick(() => log('tick from main'));
log('main end');
