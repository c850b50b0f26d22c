// Rule: a socket reads even without a 'data' listener: the peer's FIN still brings 'end' and 'close' (nothing was sent, so nothing is left unread).
const net = require('net');
const server = net.createServer((socket) => {
  socket.end();
  server.close();
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1');
  client.on('end', () => console.log('client end'));
  client.on('close', (hadError) => console.log('client close ' + hadError));
});
setTimeout(() => { console.log('watchdog: still open after 2 s'); process.exit(1); }, 2000).unref();
