// Rule: clearImmediate from an earlier immediate in the same check phase prevents the later one from running.
let b;
setImmediate(() => {
  console.log('immediate A clears B');
  clearImmediate(b);
});
b = setImmediate(() => console.log('immediate B (must not happen)'));
setImmediate(() => console.log('immediate C'));
clearImmediate(undefined);
console.log('main');
