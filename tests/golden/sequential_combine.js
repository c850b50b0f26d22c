// Article: "3. Async/Await", "Sequential Operations with Async/Await".
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

async function combineFiles() {
  try {
    const data1 = await fs.readFile('file1.txt', 'utf8');
    console.log('File 1 read successfully');
  
    const data2 = await fs.readFile('file2.txt', 'utf8');
    console.log('File 2 read successfully');
  
    await fs.writeFile('combined.txt', data1 + data2);
    console.log('Files combined successfully');
  } catch (err) {
    console.error('An error occurred:', err);
  }
}

combineFiles();
