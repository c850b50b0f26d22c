// Rule: after 'exit' nothing more runs: a nextTick, a timer or an immediate queued in an 'exit' listener never runs; a microtask still does (the checkpoint after the emit), and every 'exit' listener runs.
process.on('exit', (code) => {
  console.log('exit 1', code);
  process.nextTick(() => console.log('tick in exit: never'));
  Promise.resolve().then(() => {
    console.log('microtask in exit');
    process.nextTick(() => console.log('tick from that microtask: never'));
  });
  setTimeout(() => console.log('timeout in exit: never'), 0);
  setImmediate(() => console.log('immediate in exit: never'));
});
process.on('exit', () => console.log('exit 2'));
process.exitCode = 3;
setImmediate(() => console.log('immediate'));
console.log('main');
