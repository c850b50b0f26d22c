// Article: "Best Practices and Common Pitfalls", "Best Practices", 3. "Be
// mindful of the event loop".
// Setup (not in the article): the worker script the snippet loads, in a
// fresh temporary directory that becomes the working directory; removed at
// exit.
const { Worker } = require('worker_threads');
const os = require("os");
const path = require("path");
const dir = require("fs").mkdtempSync(path.join(os.tmpdir(), "evloop-golden-"));
require("fs").writeFileSync(path.join(dir, "prime-worker.js"), `
const { parentPort, workerData } = require('worker_threads');
${calculatePrimes.toString()}
parentPort.postMessage(calculatePrimes(workerData.max));
`);
process.chdir(dir);
process.on("exit", () => require("fs").rmSync(dir, { recursive: true, force: true }));

// --- the article's snippet ---
// Bad: Blocks the event loop
function calculatePrimes(max) {
  const primes = [];
  for (let i = 2; i <= max; i++) {
    let isPrime = true;
    for (let j = 2; j < i; j++) {
      if (i % j === 0) {
        isPrime = false;
        break;
      }
    }
    if (isPrime) primes.push(i);
  }
  return primes;
}

// Better: Uses worker threads for CPU-intensive tasks
function calculatePrimesAsync(max) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./prime-worker.js', { workerData: { max } });
    worker.on('message', resolve);
    worker.on('error', reject);
  });
}

// --- the calls (not in the article) ---
calculatePrimes(50000);
calculatePrimesAsync(50000);
