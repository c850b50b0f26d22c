// Rule: an fs error is passed to the callback (never thrown), and the loop goes on.
const fs = require('fs');
fs.readFile('missing.txt', (err) => {
  console.log(err.message);
  console.log(err.code);
  setTimeout(() => console.log('still running'), 5);
});
