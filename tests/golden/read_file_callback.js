// Article: "1. Callbacks: The Original Pattern".
// Setup (not in the article): the file the snippet reads, in a fresh
// temporary directory that becomes the working directory; removed at exit.
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "example.txt"), "Hello from example.txt!");
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// --- the article's snippet ---
const fs = require('fs');

fs.readFile('example.txt', 'utf8', (err, data) => {
  if (err) {
    console.error('Error reading file:', err);
    return;
  }
  console.log('File contents:', data);
});

console.log('Reading file...');
