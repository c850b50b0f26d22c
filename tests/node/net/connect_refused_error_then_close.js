// Rule: a refused connection emits 'error' (ECONNREFUSED) and then, in a close phase after the immediates, 'close' with hadError true.
const net = require('net');
const probe = net.createServer();
probe.listen(0, '127.0.0.1', () => {
  const port = probe.address().port;
  probe.close(() => {
    const client = net.connect(port, '127.0.0.1', () => console.log('connected?!'));
    client.on('error', (err) => {
      console.log('error ' + err.code);
      setImmediate(() => console.log('immediate'));
      process.nextTick(() => console.log('tick'));
    });
    client.on('close', (hadError) => console.log('close ' + hadError));
  });
});
