// Rule: 'beforeExit' fires when the loop runs empty; work its listener schedules runs (its ticks and microtasks first), and 'beforeExit' fires again when the loop empties again; then 'exit', once.
let rounds = 0;
process.on('beforeExit', (code) => {
  console.log('beforeExit', code, 'round', rounds);
  if (rounds++ < 2) {
    process.nextTick(() => console.log('tick from beforeExit'));
    Promise.resolve().then(() => console.log('microtask from beforeExit'));
    setTimeout(() => console.log('timeout from beforeExit'), 50);
    setImmediate(() => console.log('immediate from beforeExit'));
  }
});
process.on('exit', (code) => console.log('exit', code));
setTimeout(() => console.log('timeout from main'), 10);
console.log('main');
