// Rule: a path with a NUL byte is refused with ERR_INVALID_ARG_VALUE before anything is watched.
const fs = require('fs');
try {
  fs.watch('a\0b', () => {});
} catch (e) {
  console.log(e.code);
  console.log(e.message);
}
