// Rule: a signal caught while a listener existed, which was removed before the loop's poll phase, reaches no listener (and the process survives: it was caught).
const log = (s) => console.log(s);
const listener = () => log('listener (never)');
process.on('SIGUSR2', listener);
process.kill(process.pid, 'SIGUSR2');
process.off('SIGUSR2', listener);
setImmediate(() => log('immediate'));
setTimeout(() => log('timeout 10'), 10);
log('main done');
