// Rule: an immediate scheduled inside an immediate runs in the next iteration, after the immediates already queued.
setImmediate(() => {
  console.log('immediate A');
  setImmediate(() => console.log('immediate D (from A)'));
});
setImmediate(() => {
  console.log('immediate B');
  setImmediate(() => console.log('immediate E (from B)'));
});
setImmediate(() => console.log('immediate C'));
console.log('main');
