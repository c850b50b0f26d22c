// Rule: 'end' is a separate callback after the last 'data': the ticks and microtasks queued by the 'data' handler run before 'end'.
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', (chunk) => {
    console.log('data ' + chunk);
    process.nextTick(() => console.log('tick after data'));
    queueMicrotask(() => console.log('microtask after data'));
  });
  socket.on('end', () => {
    console.log('end');
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => client.end('x'));
  client.on('data', () => {});
});
