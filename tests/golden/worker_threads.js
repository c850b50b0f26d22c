// Article: "Using Worker Threads for CPU-Intensive Tasks". This file is its
// own worker script (new Worker(__filename)), as in the article: the main
// thread runs the first branch, each worker the second.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

if (isMainThread) {
  // This code runs in the main thread
  
  function runWorker(data) {
    return new Promise((resolve, reject) => {
      const worker = new Worker(__filename, { workerData: data });
    
      worker.on('message', resolve);
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (code !== 0) {
          reject(new Error(`Worker stopped with exit code ${code}`));
        }
      });
    });
  }
  
  async function main() {
    try {
      // Run four workers in parallel
      const results = await Promise.all([
        runWorker({ task: 'task1', value: 10 }),
        runWorker({ task: 'task2', value: 20 }),
        runWorker({ task: 'task3', value: 30 }),
        runWorker({ task: 'task4', value: 40 })
      ]);
    
      console.log('Results from workers:', results);
    } catch (err) {
      console.error('Worker error:', err);
    }
  }
  
  main();
} else {
  // This code runs in worker threads
  
  // Simulate CPU-intensive work
  function doHeavyComputation(value) {
    let result = 0;
    for (let i = 0; i < value * 1000000; i++) {
      result += Math.sqrt(i);
    }
    return result;
  }
  
  const result = doHeavyComputation(workerData.value);
  
  // Send result back to main thread
  parentPort.postMessage({
    task: workerData.task,
    result: result
  });
}
