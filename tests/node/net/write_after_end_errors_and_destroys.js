// Rule: write() after end() returns false, emits 'error' on the next tick (queued by write, so before later ticks), and destroys the socket: 'close' with hadError true.
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', () => {});
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    client.end();
    console.log('write returned ' + client.write('x'));
    process.nextTick(() => console.log('tick'));
  });
  client.on('data', () => {});
  client.on('error', () => console.log('error'));
  client.on('close', (hadError) => {
    console.log('close ' + hadError);
    server.close();
  });
});
