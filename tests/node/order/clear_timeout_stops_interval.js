// Rule: clearTimeout and clearInterval are interchangeable: clearTimeout stops an interval.
let count = 0;
const iv = setInterval(() => {
  count++;
  console.log('interval ' + count);
  if (count === 2) clearTimeout(iv);
}, 20);
setTimeout(() => console.log('timeout 100, count ' + count), 100);
