// Rule: an interval (40 ms) interleaves with a timeout (100 ms) by deadline: 40, 80, 100, 120.
let count = 0;
const iv = setInterval(() => {
  count++;
  console.log('interval ' + count);
  if (count === 3) clearInterval(iv);
}, 40);
setTimeout(() => console.log('timeout 100'), 100);
