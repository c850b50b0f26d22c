// Rule: a pool completion runs in the poll phase, after the timers that expired in the same iteration.
const fs = require('fs');
fs.stat(__filename, () => console.log('stat callback (poll phase)'));
setTimeout(() => console.log('timeout 10 (timers phase)'), 10);
const start = Date.now();
while (Date.now() - start < 60) {} // the stat finishes and the timer expires meanwhile
console.log('main done');
