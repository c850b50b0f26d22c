// Article: "Common Pitfalls" 1, "Forgetting to await Promises". The bad
// processItem hands JSON.parse a Promise instead of the file's text, so it
// fails (reported on stderr); the good one awaits the read and parses it.
const fs = require('fs').promises;
const os = require('os');
const path = require('path');

// The file the snippet reads, in a fresh temporary directory.
const dir = require('fs').mkdtempSync(path.join(os.tmpdir(), 'forgotten-await-'));
const item = { path: path.join(dir, 'item.json') };
require('fs').writeFileSync(item.path, JSON.stringify({ id: 7, name: 'widget' }));

const bad = {};
const good = {};

// Bad: Missing await
bad.processItem = async function processItem(item) {
  const data = fs.readFile(item.path, 'utf8'); // Missing await!
  return JSON.parse(data); // Will fail because data is a Promise, not string
};

// Good: With await
good.processItem = async function processItem(item) {
  const data = await fs.readFile(item.path, 'utf8');
  return JSON.parse(data);
};

async function main() {
  try {
    console.log('Bad:', await bad.processItem(item));
  } catch (err) {
    console.error('Bad version failed:', err.message);
  }
  console.log('Good:', await good.processItem(item));
  require('fs').rmSync(dir, { recursive: true });
}

main();
