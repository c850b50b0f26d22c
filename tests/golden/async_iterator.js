// Article: "Working with Async Iterators". The consumer pulls one item at a
// time; each item is fetched (100 ms) only when the loop asks for it, and
// processed (50 ms) before the next one is asked for.

// Stub: processing an item takes 50 ms.
function processItem(item) {
  return new Promise((resolve) => setTimeout(() => {
    console.log('Processed item:', item);
    resolve();
  }, 50));
}

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

const start = Date.now();
processAsyncIterable().then(() => {
  console.log(`Took ${Date.now() - start} ms (5 x (100 ms fetch + 50 ms processing))`);
});
