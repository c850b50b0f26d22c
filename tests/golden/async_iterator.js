// Article: "Advanced Concurrency Management Techniques", "Working with
// Async Iterators".
// Stub the snippet assumes (not in the article): processing an item takes
// 50 ms.
function processItem(item) {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

// --- the article's snippet ---

async function processAsyncIterable() {
  const asyncIterable = createAsyncIterable();
  
  for await (const item of asyncIterable) {
    console.log('Processing item:', item);
    await processItem(item);
  }
  
  console.log('All items processed');
}

// Example of creating an async iterable
function createAsyncIterable() {
  let count = 0;
  return {
    [Symbol.asyncIterator]() {
      return {
        async next() {
          if (count < 5) {
            // Simulate async data retrieval
            await new Promise(resolve => setTimeout(resolve, 100));
            return { done: false, value: `Item ${++count}` };
          }
          return { done: true };
        }
      };
    }
  };
}

// --- the call (not in the article) ---
processAsyncIterable();
