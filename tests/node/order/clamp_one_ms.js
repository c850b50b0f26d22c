// Rule: delays 0, -5, 2**31 (overflow; warning on stderr) and 1 all become 1 ms and fire in creation order, before 10 ms.
setTimeout(() => console.log('10 ms'), 10);
setTimeout(() => console.log('delay 0'), 0);
setTimeout(() => console.log('delay -5'), -5);
setTimeout(() => console.log('delay 2**31'), 2 ** 31);
setTimeout(() => console.log('delay 1'), 1);
console.log('main');
