// Rule: events.on ends the iteration (done, not an error) when a 'close' event named in its options is emitted or when return() is called from elsewhere: the listeners go at once, a waiting next() resolves done one microtask hop later, and events buffered before the close are still delivered first.
const { EventEmitter, on } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const counts = () => 'x listeners ' + e.listenerCount('x') + ', end listeners ' + e.listenerCount('end') + ', error listeners ' + e.listenerCount('error');
(async () => {
  for await (const [v] of on(e, 'x', { close: ['end'] })) log('first got ' + v);
  log('first ended');
})();
log(counts());
setTimeout(() => {
  e.emit('x', 1);
  e.emit('x', 2);
  log('emit end: ' + e.emit('end'));
  log(counts());
  log('emit x: ' + e.emit('x', 3));
}, 50);
setTimeout(() => {
  const it = on(e, 'x');
  (async () => {
    for await (const [v] of it) log('second got ' + v);
    log('second ended');
  })();
  setImmediate(() => {
    e.emit('x', 4);
    queueMicrotask(() => log('immediate microtask'));
    log('return from outside');
    it.return();
    log(counts());
  });
}, 100);
