// Rule: sockets destroyed together emit 'close' newest first: libuv's close phase runs its closing handles as a stack.
const net = require('net');
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const a = net.connect(port, '127.0.0.1');
  const b = net.connect(port, '127.0.0.1');
  const c = net.connect(port, '127.0.0.1');
  let connected = 0;
  const go = () => {
    if (++connected < 3) return;
    a.on('close', () => console.log('a closed'));
    b.on('close', () => console.log('b closed'));
    c.on('close', () => console.log('c closed'));
    console.log('destroy a, b, c');
    a.destroy();
    b.destroy();
    c.destroy();
    server.close();
    server.unref();
  };
  for (const s of [a, b, c]) {
    s.on('connect', go);
    s.on('error', () => {});
  }
});
