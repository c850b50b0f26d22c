// Rule: inside an fs callback (poll phase) setImmediate runs before setTimeout(0).
const fs = require('fs');
fs.stat(__filename, () => {
  console.log('stat callback');
  setTimeout(() => console.log('timeout 0'), 0);
  setImmediate(() => console.log('immediate'));
  process.nextTick(() => console.log('tick in callback'));
});
console.log('main done');
