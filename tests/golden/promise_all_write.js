// Article: "2. Promises", "Parallel Operations with Promise.all".
// Setup (not in the article): the files the snippet reads, in a fresh
// temporary directory that becomes the working directory; removed at exit.
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "file1.txt"), "one\n");
require("fs").writeFileSync(path.join(dir, "file2.txt"), "two\n");
require("fs").writeFileSync(path.join(dir, "file3.txt"), "three\n");
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// --- the article's snippet ---
const fs = require('fs').promises;

const fileReadPromises = [
  fs.readFile('file1.txt', 'utf8'),
  fs.readFile('file2.txt', 'utf8'),
  fs.readFile('file3.txt', 'utf8')
];

Promise.all(fileReadPromises)
  .then(([data1, data2, data3]) => {
    console.log('All files read successfully');
    return fs.writeFile('combined.txt', data1 + data2 + data3);
  })
  .then(() => {
    console.log('Combined file written successfully');
  })
  .catch(err => {
    console.error('An error occurred:', err);
  });
