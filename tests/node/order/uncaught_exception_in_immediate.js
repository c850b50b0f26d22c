// Rule: with an uncaughtException handler, a throwing immediate goes to the handler and the remaining immediates still run.
process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
setImmediate(() => console.log('immediate A'));
setImmediate(() => {
  console.log('immediate B throws');
  throw new Error('bang');
});
setImmediate(() => console.log('immediate C'));
setTimeout(() => console.log('timeout 50'), 50);
