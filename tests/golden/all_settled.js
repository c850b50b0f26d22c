// Article: "Common Concurrency Patterns and Challenges", "Error Handling in
// Concurrent Operations", "With Promise.allSettled (handles mixed results)".
// Stubs the snippet assumes (not in the article): three operations of
// different lengths; operation 2 fails.
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function asyncOperation1() {
  await delay(200);
  return 'result 1';
}
async function asyncOperation2() {
  await delay(100);
  throw new Error('operation 2 failed');
}
async function asyncOperation3() {
  await delay(300);
  return 'result 3';
}

// --- the article's snippet ---
async function handleErrorsWithPromiseAllSettled() {
  const results = await Promise.allSettled([
    asyncOperation1(),
    asyncOperation2(),
    asyncOperation3()
  ]);
  
  // Process results based on status
  const successful = results
    .filter(r => r.status === 'fulfilled')
    .map(r => r.value);
  
  const failed = results
    .filter(r => r.status === 'rejected')
    .map(r => r.reason);
  
  console.log(`${successful.length} operations succeeded, ${failed.length} failed`);
  
  if (failed.length > 0) {
    console.error('Failed operations:', failed);
  }
  
  return successful;
}

// --- the call (not in the article) ---
handleErrorsWithPromiseAllSettled();
