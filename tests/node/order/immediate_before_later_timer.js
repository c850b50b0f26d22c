// Rule: immediates from the main script run in the first iteration's check phase, before a timer that is not yet due.
setTimeout(() => console.log('timeout 50'), 50);
setImmediate(() => {
  console.log('immediate 1');
  setImmediate(() => console.log('immediate 2 (next iteration)'));
});
console.log('main');
