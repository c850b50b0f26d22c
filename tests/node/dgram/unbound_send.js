// Rule: send on an unbound socket binds it first (listening comes before the ticks queued after send); a second close throws ERR_SOCKET_DGRAM_NOT_RUNNING.
const dgram = require('dgram');
const r = dgram.createSocket('udp4');
r.bind(0, '127.0.0.1', () => {
  const port = r.address().port;
  const s = dgram.createSocket('udp4');
  s.on('listening', () => console.log('sender listening, bound:', s.address().port > 0));
  s.send('hi', port, '127.0.0.1', (err, n) => {
    console.log('sent', err, n);
  });
  process.nextTick(() => console.log('tick after send'));
  r.on('message', (msg) => {
    console.log('received', msg.toString());
    r.close();
    s.close(() => console.log('sender closed'));
    try { s.close(); } catch (e) { console.log('second close:', e.code); }
  });
});
