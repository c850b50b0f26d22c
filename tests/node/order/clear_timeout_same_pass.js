// Rule: clearing a timer that is due in the same pass (from an earlier timer's callback) stops it from running.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
let second;
setTimeout(() => {
  console.log('first fires, clears second');
  clearTimeout(second);
}, 5);
second = setTimeout(() => console.log('second fires (must not happen)'), 5);
setTimeout(() => console.log('third fires'), 5);
block(20); // all three are due in the first timers pass
