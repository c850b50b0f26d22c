// Rule: an unref'd interval keeps running while a ref'd timeout keeps the loop alive, then the process exits.
let count = 0;
const iv = setInterval(() => console.log('unref interval run ' + ++count), 50);
iv.unref();
setTimeout(() => console.log('ref timeout 125 ms, interval ran ' + count + ' times'), 125);
