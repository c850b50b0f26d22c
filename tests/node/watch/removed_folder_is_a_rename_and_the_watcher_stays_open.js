// Rule: removing the watched folder itself is a `rename` event with the
// folder's own name; it is not an error, and the watcher stays open (and
// keeps the loop alive) until it is closed.
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
const sub = path.join(dir, 'watched');
fs.mkdirSync(sub);
let last = '';
let closing = false;
const w = fs.watch(sub, (event, name) => {
  const line = `${event} ${name}`;
  if (line !== last) console.log(line);
  last = line;
  if (!closing) {
    closing = true;
    setTimeout(() => {
      console.log('still open');
      w.close();
      fs.rmSync(dir, { recursive: true });
    }, 100);
  }
});
w.on('error', (e) => console.log(`error ${e.code}`));
w.on('close', () => console.log('close'));
fs.rmdirSync(sub);
process.on('exit', () => console.log('exit'));
