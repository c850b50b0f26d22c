// Article: "2. Promises", "Sequential Operations with Promises".
// Setup (not in the article): the files the snippet reads, in a fresh
// temporary directory that becomes the working directory; removed at exit.
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "file1.txt"), "one\n");
require("fs").writeFileSync(path.join(dir, "file2.txt"), "two\n");
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// --- the article's snippet ---
const fs = require('fs').promises;

fs.readFile('file1.txt', 'utf8')
  .then(data1 => {
    console.log('File 1 read successfully');
    return fs.readFile('file2.txt', 'utf8')
      .then(data2 => {
        return { data1, data2 };
      });
  })
  .then(({ data1, data2 }) => {
    return fs.writeFile('combined.txt', data1 + data2);
  })
  .then(() => {
    console.log('Files combined successfully');
  })
  .catch(err => {
    console.error('An error occurred:', err);
  });
