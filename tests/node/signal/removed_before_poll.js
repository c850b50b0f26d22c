// Rule: a signal caught while a listener existed, which was removed before the loop's poll phase, reaches no listener (and the process survives: it was caught).
const log = (s) => console.log(s);
const listener = () => log('listener (never)');
process.on('SIGUSR2', listener);
process.kill(process.pid, 'SIGUSR2');
process.off('SIGUSR2', listener);
// The timer is set from the immediate: set from the main script, a slow
// start (a busy machine) could make it due before the first check phase.
setImmediate(() => {
  log('immediate');
  setTimeout(() => log('timeout 10'), 10);
});
log('main done');
