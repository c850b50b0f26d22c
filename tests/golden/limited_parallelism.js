// Article: "Limited Parallelism". At most 3 items are in progress at once;
// when one finishes, the next one starts.

// Stub: each item takes its own time, and says when it starts and finishes
// and how many items are running then.
const delays = { item1: 400, item2: 200, item3: 700, item4: 300, item5: 550, item6: 100, item7: 200 };
let running = 0;
let lastFinished;
function someAsyncOperation(item) {
  running++;
  console.log(`${item} started (${running} running)`);
  return new Promise((resolve) => setTimeout(() => {
    running--;
    lastFinished = Date.now();
    console.log(`${item} finished (${running} running)`);
    resolve(`${item} result`);
  }, delays[item]));
}

async function limitedParallelism(items, concurrencyLimit = 3) {
  const results = [];
  const inProgress = new Set();
  const itemsCopy = [...items]; // Create a copy to avoid modifying the original
  
  async function processItem(item) {
    try {
      const result = await someAsyncOperation(item);
      results.push(result);
    } catch (error) {
      console.error(`Error processing ${item}:`, error);
    } finally {
      inProgress.delete(item);
      // Process next item if available
      if (itemsCopy.length > 0) {
        const nextItem = itemsCopy.shift();
        inProgress.add(nextItem);
        processItem(nextItem);
      }
    }
  }
  
  // Start initial batch of operations
  const initialBatch = itemsCopy.splice(0, concurrencyLimit);
  for (const item of initialBatch) {
    inProgress.add(item);
    processItem(item);
  }
  
  // Wait until all operations are complete
  while (inProgress.size > 0) {
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  
  return results;
}

// Usage
const items = ['item1', 'item2', 'item3', 'item4', 'item5', 'item6', 'item7'];
limitedParallelism(items, 3).then(results => {
  console.log('All items processed with limited concurrency');
  console.log(`Results in finishing order: ${results.join(', ')}`);
  console.log(`Noticed ${Date.now() - lastFinished} ms after the last item finished (the 100 ms polling loop)`);
});
