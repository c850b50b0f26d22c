// Article: "1. Callbacks", "The Callback Challenge: Callback Hell".
// Setup (not in the article): the files the snippet reads, in a fresh
// temporary directory that becomes the working directory; removed at exit.
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "file1.txt"), "one\n");
require("fs").writeFileSync(path.join(dir, "file2.txt"), "two\n");
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// Declared by the article's previous snippet.
const fs = require('fs');

// --- the article's snippet ---
fs.readFile('file1.txt', 'utf8', (err, data1) => {
  if (err) {
    console.error('Error reading file1:', err);
    return;
  }
  
  fs.readFile('file2.txt', 'utf8', (err, data2) => {
    if (err) {
      console.error('Error reading file2:', err);
      return;
    }
  
    fs.writeFile('combined.txt', data1 + data2, (err) => {
      if (err) {
        console.error('Error writing combined file:', err);
        return;
      }
      console.log('Files combined successfully');
    });
  });
});
