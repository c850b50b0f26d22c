// Rule: socket.setTimeout(ms) fires 'timeout' once after ms of inactivity (not again while the socket stays idle), in deadline order with other timers; it only notifies.
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', () => {});
  socket.setTimeout(40);
  setTimeout(() => console.log('timer 10'), 10);
  setTimeout(() => console.log('timer 80'), 80);
  socket.on('timeout', () => {
    console.log('timeout');
    setTimeout(() => socket.destroy(), 60);
  });
  socket.on('close', (hadError) => {
    console.log('close ' + hadError);
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1');
  client.on('data', () => {});
  client.on('error', () => {});
});
