// Rule: a host name given to bind or send is looked up on the thread pool (the socket's family): bind(0, 'localhost') binds in the poll phase, 'listening' then the bind callback; each send looks up its own name, so a later send to an IP literal leaves first; a name that does not resolve fails the send's callback.
const dgram = require('dgram');
const unresolved = (err) => err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN';
const receiver = dgram.createSocket('udp4');
const sender = dgram.createSocket('udp4');
const messages = [];
receiver.on('message', (msg) => {
  messages.push(String(msg));
  if (messages.length < 2) return;
  console.log('messages: ' + messages.join(', '));
  const port = receiver.address().port;
  sender.send('lost', port, 'nonexistent.invalid', (err) => {
    console.log('sent lost', unresolved(err), err.syscall, err.hostname);
    receiver.close();
    sender.close();
  });
});
receiver.on('listening', () => console.log('listening event'));
receiver.bind(0, 'localhost', () => {
  console.log('bind callback', receiver.address().address);
  const port = receiver.address().port;
  sender.bind(0, '127.0.0.1', () => {
    sender.send('by name', port, 'localhost', (err, n) => console.log('sent by name', err, n));
    sender.send('by address', port, '127.0.0.1', (err, n) => console.log('sent by address', err, n));
    process.nextTick(() => console.log('tick after sends'));
  });
});
process.nextTick(() => console.log('main tick'));
console.log('main end');
