// Article: "Common Concurrency Patterns and Challenges", "Parallel Execution".
// Stub the snippet assumes (not in the article): an operation that takes
// one second and returns a result made from its input.
function someAsyncOperation(input) {
  return new Promise(resolve => setTimeout(() => resolve(`result(${input})`), 1000));
}

// --- the article's snippet ---
async function parallelExecution() {
  const start = Date.now();
  
  // Start all operations concurrently
  const promise1 = someAsyncOperation('operation1');
  const promise2 = someAsyncOperation('operation2');
  const promise3 = someAsyncOperation('operation3');
  
  // Wait for all to complete
  const [result1, result2, result3] = await Promise.all([
    promise1, promise2, promise3
  ]);
  
  console.log('All operations completed in', Date.now() - start, 'ms');
  
  return { result1, result2, result3 };
}

// --- the call (not in the article) ---
parallelExecution();
