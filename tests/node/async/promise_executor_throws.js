// Rule: a throw inside a promise executor rejects the promise with the thrown error instead of reaching the caller; a throw after resolve is ignored (the first settlement counts).
const log = (s) => console.log(s);
const p = new Promise(() => {
  log('executor runs');
  throw new Error('boom');
});
log('after new Promise');
const q = new Promise((resolve) => {
  resolve('kept');
  throw new Error('ignored');
});
(async () => {
  try {
    await p;
  } catch (e) {
    log('rejected: ' + e.message);
  }
  log('q: ' + (await q));
})();
process.nextTick(() => log('tick'));
log('main end');
