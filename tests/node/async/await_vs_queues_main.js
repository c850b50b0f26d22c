// Rule: from the main script: sync code, then nextTicks, then microtasks (await continuations and queueMicrotask in FIFO order), then the immediate, then the 50 ms timer.
const log = (s) => console.log(s);
setTimeout(() => log('timeout 50'), 50);
setImmediate(() => log('immediate'));
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
