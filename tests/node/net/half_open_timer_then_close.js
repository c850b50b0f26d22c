// Rule: with allowHalfOpen true, the socket stays writable after 'end'; a timer can reply and end it later, then 'close' follows.
const net = require('net');
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('data', (chunk) => console.log('data ' + chunk));
  socket.on('end', () => {
    console.log('end');
    setTimeout(() => {
      console.log('timer: reply and end');
      socket.end('reply');
    }, 10);
  });
  socket.on('close', (hadError) => {
    console.log('close ' + hadError);
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => client.end('request'));
  client.on('data', () => {});
});
