// Rule: listening is emitted on a next tick queued by bind; send sends on a next tick and calls back on a tick after it (before microtasks); each datagram is a poll-phase callback followed by its ticks; close emits close on a next tick.
const dgram = require('dgram');
const s = dgram.createSocket('udp4');
s.on('listening', () => console.log('listening event'));
s.on('message', (msg, rinfo) => {
  console.log('message', msg.toString(), rinfo.family, rinfo.size);
  setImmediate(() => console.log('immediate after message'));
  process.nextTick(() => console.log('tick after message'));
  s.close(() => console.log('close callback'));
  console.log('close called');
});
s.on('close', () => console.log('close event'));
s.bind(0, '127.0.0.1', () => {
  console.log('bind callback');
  const port = s.address().port;
  s.send('one', port, '127.0.0.1', (err, n) => console.log('sent one', err, n));
  s.send('two', port, '127.0.0.1', (err, n) => console.log('sent two', err, n));
  setImmediate(() => console.log('immediate after send'));
  process.nextTick(() => console.log('tick after send'));
  Promise.resolve().then(() => console.log('microtask after send'));
});
process.nextTick(() => console.log('main tick'));
console.log('main end');
