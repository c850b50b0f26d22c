// Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 1.
// "Forgetting to await Promises".
// Setup (not in the article): the file the snippet reads, in a fresh
// temporary directory; removed at exit.
const fs = require('fs').promises;
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
const item = { path: path.join(dir, "item.json") };
require("fs").writeFileSync(item.path, '{"id":7,"name":"widget"}');
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// --- the article's snippet (as a script, the second processItem replaces
// the first) ---
// Bad: Missing await
async function processItem(item) {
  const data = fs.readFile(item.path, 'utf8'); // Missing await!
  return JSON.parse(data); // Will fail because data is a Promise, not string
}

// Good: With await
async function processItem(item) {
  const data = await fs.readFile(item.path, 'utf8');
  return JSON.parse(data);
}

// --- the call (not in the article) ---
processItem(item);
