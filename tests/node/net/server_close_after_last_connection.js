// Rule: server.close(cb) waits for the open connections; cb runs on the next tick after the last one is destroyed, before that socket's 'close' (close phase).
const net = require('net');
const server = net.createServer((socket) => {
  console.log('connection');
  socket.on('data', () => {});
  socket.on('close', () => console.log('socket close'));
  server.close(() => console.log('server close callback'));
  setTimeout(() => {
    console.log('timer: destroy');
    socket.destroy();
    process.nextTick(() => console.log('tick'));
    setImmediate(() => console.log('immediate'));
  }, 20);
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1');
  client.on('data', () => {});
  client.on('error', () => {});
});
