// Article: "Error Handling in Concurrent Operations", with
// Promise.allSettled (handles mixed results). Operation 2 fails; allSettled
// still waits for all three and reports each outcome.

// Stubs: three operations of different lengths; operation 2 fails.
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function asyncOperation1() {
  await delay(200);
  console.log('operation 1 finished');
  return 'result 1';
}
async function asyncOperation2() {
  await delay(100);
  console.log('operation 2 failing');
  throw new Error('operation 2 failed');
}
async function asyncOperation3() {
  await delay(300);
  console.log('operation 3 finished');
  return 'result 3';
}

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

handleErrorsWithPromiseAllSettled().then((successful) => {
  console.log('Returned:', successful);
});
