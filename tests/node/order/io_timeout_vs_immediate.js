// Rule: inside an I/O callback (poll phase) setImmediate always runs before setTimeout(0) (check comes before the next timers phase).
const fs = require('fs');
fs.readFile(__filename, () => {
  console.log('readFile callback');
  setTimeout(() => console.log('timeout 0'), 0);
  setImmediate(() => console.log('immediate'));
});
console.log('main');
