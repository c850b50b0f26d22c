// Rule: a signal caught twice before the loop polls runs its listener twice in the same poll phase, with the next-tick/microtask drain after each run.
const log = (s) => console.log(s);
let n = 0;
const listener = () => {
  n += 1;
  const k = n;
  log(`listener ${k}`);
  process.nextTick(() => log(`tick ${k}`));
  Promise.resolve().then(() => log(`microtask ${k}`));
  if (k === 2) process.off('SIGUSR2', listener);
};
process.on('SIGUSR2', listener);
setImmediate(() => log('immediate'));
process.kill(process.pid, 'SIGUSR2');
process.kill(process.pid, 'SIGUSR2');
log('main done');
