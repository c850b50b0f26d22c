// Article: "2. Promises: A More Structured Approach".
// Setup (not in the article): the file the snippet reads, in a fresh
// temporary directory that becomes the working directory; removed at exit.
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "example.txt"), "Hello from example.txt!");
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// --- the article's snippet ---
const fs = require('fs').promises;

fs.readFile('example.txt', 'utf8')
  .then(data => {
    console.log('File contents:', data);
  })
  .catch(err => {
    console.error('Error reading file:', err);
  });

console.log('Reading file...');
