// Rule: an aborted signal makes events.on's waiting next() reject with an AbortError after the events buffered before it; removeAllListeners(name) leaves the iterator waiting forever (a pending promise does not keep the process alive). evloop differs in both: see tests/node/emitter.rs.
const { EventEmitter, on } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const counts = () => 'x listeners ' + e.listenerCount('x') + ', error listeners ' + e.listenerCount('error');
const ac = new AbortController();
(async () => {
  try {
    for await (const [v] of on(e, 'x', { signal: ac.signal })) log('first got ' + v);
    log('first ended');
  } catch (err) {
    log('first threw ' + err.name);
  }
})();
setTimeout(() => {
  e.emit('x', 1);
  ac.abort();
  log('aborted: ' + counts());
}, 50);
let secondEnded = false;
setTimeout(() => {
  (async () => {
    for await (const [v] of on(e, 'x')) log('second got ' + v);
    secondEnded = true;
  })();
  setImmediate(() => {
    e.emit('x', 2);
    e.removeAllListeners('x');
    log('removed: ' + counts());
  });
}, 100);
setTimeout(() => log('second ended: ' + secondEnded), 150);
