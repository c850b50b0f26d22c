// Rule: a setTimeout(0) created inside a timer never runs in the same timers pass: it runs after the other due timer and after that iteration's immediates.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setTimeout(() => {
  console.log('timer A');
  setTimeout(() => console.log('timer C (0 ms, from A)'), 0);
  setImmediate(() => console.log('immediate (from A)'));
  block(5); // C is already due, but still waits for the next timers pass
}, 10);
setTimeout(() => console.log('timer B'), 10);
block(20); // A and B are both due in the first pass
