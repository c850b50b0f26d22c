// Rule: watching a path that does not exist throws ENOENT naming the path.
const fs = require('fs');
try {
  fs.watch('/nonexistent-evloop/x', () => {});
} catch (e) {
  console.log(e.code);
  console.log(e.message);
}
