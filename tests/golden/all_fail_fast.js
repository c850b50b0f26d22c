// Article: "Error Handling in Concurrent Operations", with Promise.all
// (fails fast). Run once with every operation succeeding, then once with
// operation 2 failing: Promise.all rejects at once, and the other two
// operations still run to the end (a promise cannot be cancelled).

// Stubs: three operations of different lengths; operation 2 can fail.
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let failOperation2 = false;
async function asyncOperation1() {
  await delay(200);
  console.log('operation 1 finished');
  return 'result 1';
}
async function asyncOperation2() {
  await delay(100);
  if (failOperation2) {
    console.log('operation 2 failing');
    throw new Error('operation 2 failed');
  }
  console.log('operation 2 finished');
  return 'result 2';
}
async function asyncOperation3() {
  await delay(300);
  console.log('operation 3 finished');
  return 'result 3';
}

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

async function main() {
  console.log('Returned:', await handleErrorsWithPromiseAll());
  failOperation2 = true;
  console.log('Returned:', await handleErrorsWithPromiseAll());
}

main();
