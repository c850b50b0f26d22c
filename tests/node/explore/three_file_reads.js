// Three fs.readFile calls at once: each is a job on the thread pool (4
// threads), and their callbacks run in the order the jobs finish, which
// the machine decides: all six orders are legal. The test
// (tests/node/explore.rs) checks that every order Node prints is one
// evloop's exploration found (Node usually prints a, b, c).
const fs = require('fs');
const os = require('os');
const path = require('path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evloop-explore-'));
for (const name of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, name), name);
let left = 3;
for (const name of ['a', 'b', 'c']) {
  fs.readFile(path.join(dir, name), 'utf8', (err, text) => {
    console.log(`read ${text}`);
    if (--left === 0) fs.rmSync(dir, { recursive: true });
  });
}
