// Rule: a nextTick queued after an await (inside a microtask) runs only once the whole microtask queue is empty, after the other async function's later steps.
const log = (s) => console.log(s);
(async () => {
  await null;
  log('A: after await 1, queues tick');
  process.nextTick(() => log('tick from A'));
  await null;
  log('A: after await 2');
})();
(async () => {
  await null;
  log('B: after await 1');
  await null;
  log('B: after await 2');
  await null;
  log('B: after await 3');
})();
process.nextTick(() => log('tick from main'));
