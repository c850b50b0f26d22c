// Rule: lstat, readlink, symlink, mkdtemp and an exclusive open fail with Node's message and the fields code, syscall, path, dest; each callback runs in the poll phase (chained here, so in order).
const fs = require('fs');
// mkdtemp's error names the random name it tried: mask the 6 characters.
const mask = (s) => String(s).replace(/tmp-[A-Za-z0-9]{6}/, 'tmp-XXXXXX');
function show(err) {
  console.log(mask(err.message));
  console.log(`${err.code} ${err.syscall} ${mask(err.path)} ${err.dest}`);
}
fs.lstat('missing.txt', (err) => {
  show(err);
  fs.readlink('.', (err) => {
    show(err);
    fs.symlink('target', 'no-such-dir/link', (err) => {
      show(err);
      fs.mkdtemp('no-such-dir/tmp-', (err) => {
        show(err);
        fs.open('.', 'wx', (err) => {
          show(err);
          setImmediate(() => console.log('loop goes on'));
        });
      });
    });
  });
});
