// Rule: a fractional delay is clamped to 1..=2**31-1 and then truncated: 10.8 is 10 ms (same list, so it runs before a 10 ms timer created after it), 1.8 and 0.5 are 1 ms.
setTimeout(() => console.log('10.8 ms (10 ms)'), 10.8);
setTimeout(() => console.log('10 ms'), 10);
setTimeout(() => console.log('1.8 ms (1 ms)'), 1.8);
setTimeout(() => console.log('0.5 ms (1 ms)'), 0.5);
setTimeout(() => console.log('1 ms'), 1);
setTimeout(() => console.log('20.999 ms (20 ms)'), 20.999);
setTimeout(() => console.log('20 ms'), 20);
console.log('main');
