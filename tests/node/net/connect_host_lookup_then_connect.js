// Rule: net.connect to a host name looks it up on the thread pool: 'lookup' (err, address, family, host) runs in the poll phase, before 'connect'; an IP literal is not looked up and emits no 'lookup'.
const net = require('net');
const server = net.createServer((socket) => socket.end('hi'));
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const client = net.connect(port, 'localhost', () => console.log('connect'));
  client.on('lookup', (err, address, family, host) => {
    console.log('lookup', err, address, family, host);
    process.nextTick(() => console.log('tick after lookup'));
  });
  client.on('data', (data) => console.log('data ' + data));
  client.on('close', (hadError) => {
    console.log('close ' + hadError);
    const literal = net.connect(port, '127.0.0.1', () => console.log('literal connect'));
    literal.on('lookup', () => console.log('literal lookup?!'));
    literal.on('data', () => {});
    literal.on('close', () => {
      console.log('literal close');
      server.close();
    });
  });
  process.nextTick(() => console.log('tick after connect call'));
  console.log('connect called');
});
