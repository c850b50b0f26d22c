// Rule: setTimeout measures its delay from the moment of the call (Node refreshes the loop time), not from the start of the current callback.
const start = Date.now();
setTimeout(() => console.log('A: 100 ms timer set at 0 ms'), 100);
while (Date.now() - start < 200) {} // busy for 200 ms
setTimeout(() => console.log('B: 50 ms timer set at 200 ms'), 50);
console.log('main done');
