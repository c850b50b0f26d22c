// Rule: server.close(cb) with no open connection calls cb on the next tick, before later ticks and before immediates.
const net = require('net');
const server = net.createServer();
server.listen(0, '127.0.0.1', () => {
  console.log('listening');
  server.close(() => console.log('server close callback'));
  process.nextTick(() => console.log('tick'));
  setImmediate(() => console.log('immediate'));
});
