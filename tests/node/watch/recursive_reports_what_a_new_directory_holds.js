// Rule: a recursive watch reports a new directory, then what it already holds when its watch is added (a `rename` each, parents first), so nothing created with it is missed.
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
const seen = new Set();
const w = fs.watch(dir, { recursive: true }, (event, name) => {
  const line = `${event} ${name}`;
  if (seen.has(line)) return;
  seen.add(line);
  console.log(line);
  if (name === path.join('n', 'm', 'x.txt')) {
    w.close();
    fs.rmSync(dir, { recursive: true });
    console.log('closed');
  }
});
fs.mkdirSync(path.join(dir, 'n', 'm'), { recursive: true });
fs.writeFileSync(path.join(dir, 'n', 'm', 'x.txt'), 'x');
process.on('exit', () => console.log('exit'));
