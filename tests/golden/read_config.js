// Article: "Best Practices and Common Pitfalls", "Best Practices", 1. "Use
// async/await for most cases".
// Setup (not in the article): the file the snippet reads, in a fresh
// temporary directory that becomes the working directory; removed at exit.
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "config.json"), '{"host":"localhost","port":8080}');
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));
const fs = require('fs').promises;

// --- the article's snippet ---
// Prefer this
async function readConfig() {
  try {
    const config = await fs.readFile('config.json', 'utf8');
    return JSON.parse(config);
  } catch (err) {
    console.error('Error reading config:', err);
    return {};
  }
}

// --- the call (not in the article) ---
readConfig();
