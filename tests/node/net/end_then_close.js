// Rule: with allowHalfOpen false, 'end' is followed by 'close' in a close phase; an immediate queued in 'end' runs before 'close'.
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', () => {});
  socket.on('end', () => {
    console.log('end');
    setImmediate(() => console.log('immediate'));
    process.nextTick(() => console.log('tick'));
  });
  socket.on('close', (hadError) => {
    console.log('close ' + hadError);
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => client.end('bye'));
  client.on('data', () => {});
});
