// Rule: two watchers of one path each get every record, in the order they were made; closing one (even from its listener) leaves the other watching.
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
const a = fs.watch(dir, (event, name) => {
  console.log(`a ${event} ${name}`);
  if (name === 'one') {
    a.close();
    console.log('a closed');
    fs.mkdirSync(path.join(dir, 'two'));
  }
});
const b = fs.watch(dir, (event, name) => {
  console.log(`b ${event} ${name}`);
  if (name === 'two') {
    b.close();
    fs.rmdirSync(path.join(dir, 'one'));
    fs.rmdirSync(path.join(dir, 'two'));
    fs.rmdirSync(dir);
    console.log('b closed');
  }
});
fs.mkdirSync(path.join(dir, 'one'));
process.on('exit', () => console.log('exit'));
