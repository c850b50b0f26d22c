// Article: "Best Practices" 1, "Use async/await for most cases". readConfig
// reads and parses config.json; when the file is broken or missing it logs
// the error (to stderr) and falls back to an empty config.
const fs = require('fs').promises;
const os = require('os');
const path = require('path');

// The file the snippet reads, in a fresh temporary directory.
const dir = require('fs').mkdtempSync(path.join(os.tmpdir(), 'read-config-'));
process.chdir(dir);
require('fs').writeFileSync('config.json', JSON.stringify({ host: 'localhost', port: 8080 }));

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

async function main() {
  console.log('Config:', await readConfig());
  await fs.writeFile('config.json', '{ "port": 80');
  console.log('Config from a broken file:', await readConfig());
  await fs.unlink('config.json');
  console.log('Config without the file:', await readConfig());
  process.chdir(os.tmpdir());
  await fs.rmdir(dir);
}

main();
