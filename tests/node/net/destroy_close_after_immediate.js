// Rule: 'close' after destroy() runs in the close phase, after the ticks of the callback and after the immediates of the same iteration.
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', () => {
    console.log('data');
    socket.destroy();
    setImmediate(() => console.log('immediate'));
    process.nextTick(() => console.log('tick'));
  });
  socket.on('close', (hadError) => {
    console.log('close ' + hadError);
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => client.write('hi'));
  client.on('data', () => {});
  client.on('error', () => {});
});
