// Rule: a late loop takes the lists by their first due timer, each list whole: the 5 ms list (due 10 and 30) before the 20 ms list (due 25), then the 1 ms list (due 31).
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
block(5);
setTimeout(() => console.log('5 ms list, first (due 10)'), 5);
setTimeout(() => console.log('20 ms list (due 25)'), 20);
block(20);
setTimeout(() => console.log('5 ms list, second (due 30)'), 5);
block(5);
setTimeout(() => console.log('1 ms list (due 31)'), 1);
block(40);
console.log('main end');
