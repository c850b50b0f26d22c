// Article: "Common Concurrency Patterns and Challenges", "Limited Parallelism".

// Stub the snippet assumes (not in the article): each item takes its own
// time.
const delays = { item1: 400, item2: 200, item3: 700, item4: 300, item5: 550, item6: 100, item7: 200 };
function someAsyncOperation(item) {
  return new Promise((resolve) => setTimeout(() => resolve(`${item} result`), delays[item]));
}

// --- the article's snippet ---
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
});
