// Rule: a 'connection' callback runs in the poll phase: its next ticks, then microtasks, run right after it, then setImmediate (check phase), then setTimeout(0) (next timers phase).
const net = require('net');
const server = net.createServer((socket) => {
  console.log('connection');
  socket.on('data', () => {});
  setTimeout(() => {
    console.log('timeout 0');
    socket.destroy();
    server.close();
  }, 0);
  setImmediate(() => console.log('immediate'));
  Promise.resolve().then(() => console.log('microtask'));
  process.nextTick(() => console.log('tick'));
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1');
  client.on('data', () => {});
});
