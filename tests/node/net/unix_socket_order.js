// Rule: a server on a Unix socket path gives the same connection/data/end/close order as TCP; listen on a path in use fails with EADDRINUSE; server.close removes the socket file.
const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sock = path.join(os.tmpdir(), `evloop-unix-order-${process.pid}.sock`);
try { fs.unlinkSync(sock); } catch (e) {}
const server = net.createServer((socket) => {
  console.log('connection');
  socket.on('data', (d) => {
    console.log('server data ' + d);
    socket.end('pong');
  });
  socket.on('end', () => console.log('server end'));
  socket.on('close', (hadError) => {
    console.log('server close ' + hadError);
    server.close(() => {
      console.log('server closed, file exists ' + fs.existsSync(sock));
    });
  });
});
server.listen(sock, () => {
  console.log('listening, file exists ' + fs.existsSync(sock));
  const second = net.createServer();
  second.on('error', (e) => console.log('second listen ' + e.code));
  second.listen(sock);
  const client = net.connect(sock, () => {
    console.log('connect');
    client.write('ping');
  });
  client.on('data', (d) => console.log('client data ' + d));
  client.on('end', () => console.log('client end'));
  client.on('close', (hadError) => console.log('client close ' + hadError));
});
