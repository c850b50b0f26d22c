// Article: "Common Pitfalls" 3, "Error swallowing". The same failing
// operation twice: with .catch(() => {}) the error vanishes without a trace;
// with a real handler it is logged (stderr) and the user is told.

// Stubs: an operation that fails after 50 ms, and a way to tell the user.
function someAsyncFunction() {
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('connection refused')), 50);
  });
}
function notifyUser(message) {
  console.log(`[to the user] ${message}`);
}

async function main() {
  console.log('Bad: errors are swallowed');
  // Bad: Errors are swallowed
  await someAsyncFunction().catch(() => {});
  console.log('...the operation failed, and nobody heard about it');

  console.log('Good: errors are logged and reported');
  // Good: Errors are logged or handled appropriately
  await someAsyncFunction().catch(err => {
    console.error('Operation failed:', err);
    notifyUser('Operation failed: ' + err.message);
  });
}

main();
