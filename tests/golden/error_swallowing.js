// Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 3.
// "Error swallowing".
// Stubs the snippet assumes (not in the article): an operation that fails
// after 50 ms, and a way to tell the user (here: nothing to see).
function someAsyncFunction() {
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('connection refused')), 50);
  });
}
function notifyUser(message) {}

// --- the article's snippet ---
// Bad: Errors are swallowed
someAsyncFunction().catch(() => {});

// Good: Errors are logged or handled appropriately
someAsyncFunction().catch(err => {
  console.error('Operation failed:', err);
  notifyUser('Operation failed: ' + err.message);
});
