// Rule: a watched directory reports a new file as `rename`, a write to it as `change` and its removal as `rename`, each with the file name relative to the directory (consecutive repeats merged: one write may report several `change`s).
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
let last = '';
let step = 0;
const w = fs.watch(dir, (event, name) => {
  const line = `${event} ${name}`;
  if (line === last) return;
  last = line;
  console.log(line);
  if (step === 0 && line === 'change a.txt') {
    step = 1;
    fs.unlinkSync(path.join(dir, 'a.txt'));
  } else if (step === 1 && line === 'rename a.txt') {
    w.close();
    fs.rmdirSync(dir);
    console.log('closed');
  }
});
fs.writeFileSync(path.join(dir, 'a.txt'), 'hello');
process.on('exit', () => console.log('exit'));
