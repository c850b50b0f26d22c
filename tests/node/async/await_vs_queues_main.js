// Rule: from the main script: sync code, then nextTicks, then microtasks (await continuations and queueMicrotask in FIFO order), then the immediate, then a 50 ms timer (set by the immediate, so a slow start cannot make it due first).
const log = (s) => console.log(s);
setImmediate(() => {
  log('immediate');
  setTimeout(() => log('timeout 50'), 50);
});
process.nextTick(() => log('tick'));
(async () => {
  log('async A before await');
  await null;
  log('async A after await');
})();
queueMicrotask(() => log('queueMicrotask'));
(async () => {
  log('async B before await');
  await undefined;
  log('async B after await');
})();
log('main end');
