// Article: "Common Concurrency Patterns and Challenges", "Error Handling in
// Concurrent Operations", "With Promise.all (fails fast)".
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
async function handleErrorsWithPromiseAll() {
  try {
    const results = await Promise.all([
      asyncOperation1(),
      asyncOperation2(),
      asyncOperation3()
    ]);
    console.log('All operations succeeded');
    return results;
  } catch (error) {
    console.error('An operation failed:', error);
    // Promise.all fails fast - if any promise rejects, the whole thing fails
    return null;
  }
}

// --- the call (not in the article) ---
handleErrorsWithPromiseAll();
