// Rule: libuv 1.46 runs the timers at the end of each iteration, before it checks whether the loop is alive, so an unref'd timer that is due by then still fires in the last iteration.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setImmediate(() => {
  const t = setTimeout(() => console.log('unref timer (due during the immediate)'), 10);
  t.unref();
  block(30);
  console.log('immediate (the last ref\'d handle)');
});
console.log('main');
