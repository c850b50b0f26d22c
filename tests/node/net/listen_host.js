// Rule: server.listen(port, 'localhost') looks the name up on the thread pool, listens in the poll phase, and emits 'listening' on a next tick; a name that does not resolve is an 'error' instead.
const net = require('net');
const unresolved = (err) => err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN';
const server = net.createServer();
server.listen(0, 'localhost', () => {
  console.log('listening', server.address().address);
  server.close(() => console.log('closed'));
  const bad = net.createServer();
  bad.on('error', (err) => console.log('error', unresolved(err), err.syscall, err.hostname));
  bad.listen(0, 'nonexistent.invalid', () => console.log('listening?!'));
});
process.nextTick(() => console.log('main tick'));
console.log('main end');
