// Rule: a client's 'connect' callback runs in the poll phase: ticks, then microtasks, then setImmediate, then setTimeout(0).
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', () => {});
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    console.log('connect');
    setTimeout(() => {
      console.log('timeout 0');
      client.end();
      server.close();
    }, 0);
    setImmediate(() => console.log('immediate'));
    queueMicrotask(() => console.log('microtask'));
    process.nextTick(() => console.log('tick'));
  });
  client.on('data', () => {});
});
