// Rule: a recursive watch reports a file created in a new subdirectory with its path relative to the watched directory.
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
const seen = new Set();
const w = fs.watch(dir, { recursive: true }, (event, name) => {
  const line = `${event} ${name}`;
  if (seen.has(line)) return;
  seen.add(line);
  if (name === 'sub' && event === 'rename') {
    console.log(line);
    setTimeout(() => fs.writeFileSync(path.join(dir, 'sub', 'f.txt'), 'x'), 100);
  } else if (name === path.join('sub', 'f.txt') && event === 'rename') {
    console.log(line);
    w.close();
    fs.rmSync(dir, { recursive: true });
    console.log('closed');
  }
});
fs.mkdirSync(path.join(dir, 'sub'));
process.on('exit', () => console.log('exit'));
