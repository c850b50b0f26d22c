// Rule: a .then that returns a pending promise waits for it: the chain goes on two ticks after a timer settles that promise (its reaction, then ours), after a microtask the timer queued right after resolving.
const log = (s) => console.log(s);
const late = new Promise((resolve) => {
  setTimeout(() => {
    log('timer resolves late');
    resolve('late');
    queueMicrotask(() => log('microtask from timer'));
    queueMicrotask(() => queueMicrotask(() => log('microtask from timer, nested')));
  }, 50);
});
Promise.resolve()
  .then(() => {
    log('then returns the pending promise');
    return late;
  })
  .then((v) => log('adopted: ' + v));
setTimeout(() => log('timer 100'), 100);
log('main end');
