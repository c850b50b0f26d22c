// Rule: ticks then microtasks drain after EACH timer callback, even between two timers due in the same pass.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
for (const name of ['A', 'B']) {
  setTimeout(() => {
    console.log('timer ' + name);
    queueMicrotask(() => console.log('micro ' + name));
    process.nextTick(() => console.log('tick ' + name));
  }, 10);
}
setTimeout(() => console.log('timer C (20ms)'), 20);
block(30); // both 10 ms timers and the 20 ms one are due in the first timers pass
