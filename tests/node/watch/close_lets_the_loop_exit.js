// Rule: a watcher keeps the loop alive until it is closed; after `close` no more events come.
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
let events = 0;
const w = fs.watch(dir, () => {
  events++;
});
w.close();
fs.writeFileSync(path.join(dir, 'a.txt'), 'hello');
setTimeout(() => {
  console.log(`events after close: ${events}`);
  fs.rmSync(dir, { recursive: true });
}, 50);
process.on('exit', () => console.log('exit'));
