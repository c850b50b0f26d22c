// Rule: the ticks of a callback whose error an uncaughtException handler took still run when no other callback follows (Node queues a no-op immediate, whose drain runs them).
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
setImmediate(() => {
  console.log('immediate throws');
  process.nextTick(() => console.log('tick'));
  queueMicrotask(() => console.log('microtask'));
  throw new Error('A');
});
