// Rule: a 'data' callback runs in the poll phase: ticks, then microtasks, right after it; then setImmediate; then setTimeout(0).
const net = require('net');
const server = net.createServer((socket) => {
  socket.on('data', (chunk) => {
    console.log('data ' + chunk);
    setTimeout(() => {
      console.log('timeout 0');
      socket.end();
      server.close();
    }, 0);
    setImmediate(() => console.log('immediate'));
    Promise.resolve().then(() => console.log('microtask'));
    process.nextTick(() => console.log('tick'));
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => client.write('hello'));
  client.on('data', () => {});
});
