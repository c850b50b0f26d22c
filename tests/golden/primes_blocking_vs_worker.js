// Article: "Best Practices" 3, "Be mindful of the event loop". A timer ticks
// every 100 ms. While calculatePrimes runs on the event loop, it cannot tick;
// while the same work runs on a worker thread, it keeps ticking.
const { Worker } = require('worker_threads');
const fs = require('fs');
const os = require('os');
const path = require('path');

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

// The worker script the snippet loads, in a fresh temporary directory.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'primes-'));
process.chdir(dir);
fs.writeFileSync('prime-worker.js', `
const { parentPort, workerData } = require('worker_threads');
${calculatePrimes.toString()}
parentPort.postMessage(calculatePrimes(workerData.max));
`);

const MAX = 50000;
let ticks = 0;
const ticker = setInterval(() => { ticks++; }, 100);

async function main() {
  // Let the timer tick a few times first.
  await new Promise((resolve) => setTimeout(resolve, 350));
  console.log(`Ticks so far: ${ticks}`);

  console.log(`calculatePrimes(${MAX}) on the event loop...`);
  let before = ticks;
  let start = Date.now();
  let primes = calculatePrimes(MAX);
  console.log(`${primes.length} primes in ${Date.now() - start} ms; ticks meanwhile: ${ticks - before}`);

  console.log(`calculatePrimesAsync(${MAX}) on a worker thread...`);
  before = ticks;
  start = Date.now();
  primes = await calculatePrimesAsync(MAX);
  console.log(`${primes.length} primes in ${Date.now() - start} ms; ticks meanwhile: ${ticks - before}`);

  clearInterval(ticker);
  process.chdir(os.tmpdir());
  fs.rmSync(dir, { recursive: true });
}

main();
