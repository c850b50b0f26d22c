// Rule: two timers due in the same pass: the first timer's async function finishes all its awaits before the second timer runs (drain after each timer).
const log = (s) => console.log(s);
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setTimeout(() => {
  (async () => {
    log('timer A: async start');
    await null;
    log('timer A: after await 1');
    await null;
    log('timer A: after await 2');
  })();
  log('timer A end');
}, 10);
setTimeout(() => log('timer B'), 10);
block(20);
log('main');
