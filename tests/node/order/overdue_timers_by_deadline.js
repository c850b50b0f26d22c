// Rule: timers that are all overdue in one pass still run by deadline, then creation order (not creation alone).
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setTimeout(() => console.log('t1 (15 ms)'), 15);
setTimeout(() => console.log('t2 (5 ms)'), 5);
setTimeout(() => console.log('t3 (15 ms)'), 15);
setTimeout(() => console.log('t4 (15 ms)'), 15);
setTimeout(() => console.log('t5 (5 ms)'), 5);
block(40);
console.log('main end');
