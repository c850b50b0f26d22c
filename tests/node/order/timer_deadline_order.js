// Rule: timers fire by deadline, then creation order (30, 10, 20, 10 ms -> 10a, 10b, 20, 30).
setTimeout(() => console.log('30 ms'), 30);
setTimeout(() => console.log('10 ms (first)'), 10);
setTimeout(() => console.log('20 ms'), 20);
setTimeout(() => console.log('10 ms (second)'), 10);
console.log('main');
