// Rule: grand tour mixing main code, ticks, promises, immediates, an I/O callback, timers, an interval and clears over several iterations.
const fs = require('fs');
const log = (s) => console.log(s);
log('main start');
setImmediate(() => {
  log('immediate 1');
  queueMicrotask(() => log('micro from immediate 1'));
  fs.readFile(__filename, () => {
    log('readFile');
    process.nextTick(() => log('tick from readFile'));
    setTimeout(() => log('timeout 0 from readFile'), 0);
    setImmediate(() => log('immediate from readFile'));
    setTimeout(() => {
      log('timer 20');
      process.nextTick(() => log('tick from timer 20'));
      setImmediate(() => log('immediate from timer 20'));
      setTimeout(() => log('timer 0 from timer 20'), 0);
    }, 20);
    const doomed = setTimeout(() => log('doomed (must not happen)'), 75);
    let n = 0;
    const iv = setInterval(() => {
      log('interval ' + ++n);
      if (n === 1) clearTimeout(doomed);
      if (n === 2) clearInterval(iv);
    }, 50);
  });
});
Promise.resolve().then(() => log('promise')).then(() => log('promise 2'));
process.nextTick(() => log('tick'));
log('main end');
