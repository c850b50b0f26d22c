// Rule: stdin chunks come in the poll phase, each followed by the tick and microtask drain (before the check phase's immediates); `end` comes on a next tick after the input closes. Fed by tests/stdio.rs: "a\nb", then "\nc" once "immediate after data" is printed, then EOF once it is printed again.
process.stdin.setEncoding('utf8');
let partial = '';
process.stdin.on('data', (chunk) => {
  const lines = (partial + chunk).split('\n');
  partial = lines.pop();
  for (const line of lines) console.log('line ' + line);
  process.nextTick(() => console.log('tick after data'));
  Promise.resolve().then(() => console.log('microtask after data'));
  setImmediate(() => console.log('immediate after data'));
});
process.stdin.on('end', () => {
  if (partial) console.log('last ' + partial);
  console.log('end');
  process.nextTick(() => console.log('tick after end'));
  setImmediate(() => console.log('immediate after end'));
});
console.log('main');
