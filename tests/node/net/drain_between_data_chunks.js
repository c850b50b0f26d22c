// Rule: every 'data' chunk is its own callback: ticks and microtasks queued by one chunk's handler run before the next chunk's handler.
const net = require('net');
const server = net.createServer((socket) => {
  let n = 0;
  socket.on('data', () => {
    n += 1;
    if (n > 2) return;
    const i = n;
    console.log('data ' + i);
    process.nextTick(() => console.log('tick after data ' + i));
    queueMicrotask(() => console.log('microtask after data ' + i));
  });
  socket.on('end', () => server.close());
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    client.end(Buffer.alloc(200 * 1024, 120)); // more than one 64 KiB read
  });
  client.on('data', () => {});
});
