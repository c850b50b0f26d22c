// Rule: inside a timer callback, setImmediate runs before setTimeout(0) (check phase comes before the next timers pass).
setTimeout(() => {
  console.log('timer');
  setTimeout(() => console.log('timeout 0 (from timer)'), 0);
  setImmediate(() => console.log('immediate (from timer)'));
}, 10);
