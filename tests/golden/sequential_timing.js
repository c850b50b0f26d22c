// Article: "Common Concurrency Patterns and Challenges", "Sequential Execution".
// Stub the snippet assumes (not in the article): an operation that takes
// one second and returns a result made from its input.
function someAsyncOperation(input) {
  return new Promise(resolve => setTimeout(() => resolve(`result(${input})`), 1000));
}

// --- the article's snippet ---
async function sequentialExecution() {
  const start = Date.now();
  
  // Operation 1
  const result1 = await someAsyncOperation('operation1');
  console.log('Operation 1 completed in', Date.now() - start, 'ms');
  
  // Operation 2 (uses result from Operation 1)
  const result2 = await someAsyncOperation(result1);
  console.log('Operation 2 completed in', Date.now() - start, 'ms');
  
  // Operation 3 (uses result from Operation 2)
  const result3 = await someAsyncOperation(result2);
  console.log('Operation 3 completed in', Date.now() - start, 'ms');
  
  return result3;
}

// --- the call (not in the article) ---
sequentialExecution();
