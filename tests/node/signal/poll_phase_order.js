// Rule: a signal's listeners run in the poll phase, all of them before the next-tick/microtask drain that follows; an immediate queued before the signal runs after them (check phase), a timer queued by a listener in a later loop turn.
const log = (s) => console.log(s);
process.on('SIGUSR2', (sig) => {
  log(`first listener ${sig}`);
  process.nextTick(() => log('tick from first listener'));
  Promise.resolve().then(() => log('microtask from first listener'));
  setImmediate(() => log('immediate from listener'));
  setTimeout(() => log('timeout from listener'), 0);
});
process.on('SIGUSR2', () => {
  log('second listener');
  process.removeAllListeners('SIGUSR2');
});
setImmediate(() => log('immediate queued first'));
process.kill(process.pid, 'SIGUSR2');
process.nextTick(() => log('tick from main'));
log('main done');
