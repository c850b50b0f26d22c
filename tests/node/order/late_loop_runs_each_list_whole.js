// Rule: when the loop is late, Node runs every due timer of one duration's list before the next list: A and C (100 ms, due 100 and 120) run before B (60 ms, due 110).
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setTimeout(() => console.log('A (100 ms, due 100)'), 100);
block(20);
setTimeout(() => console.log('C (100 ms, due 120)'), 100);
block(30);
setTimeout(() => console.log('B (60 ms, due 110)'), 60);
block(150);
console.log('main end at 200');
