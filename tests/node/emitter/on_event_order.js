// Rule: events.on buffers the events emitted before the consumer asks, in order, and a buffered one resumes for await one microtask hop after next(); an event emitted while next() waits resumes it one hop after the emit; break calls return(), which removes the event and 'error' listeners at once, and the statement after the loop runs one hop later.
const { EventEmitter, on } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const counts = () => 'data listeners ' + e.listenerCount('data') + ', error listeners ' + e.listenerCount('error');
const count = (label) => {
  let m = 0;
  const step = () => {
    log(label + ' microtask ' + ++m);
    if (m < 3) queueMicrotask(step);
  };
  queueMicrotask(step);
};
(async () => {
  log('consumer starts');
  for await (const [v] of on(e, 'data')) {
    log('got ' + v);
    if (v === 'i2') break;
  }
  log('after the loop: ' + counts());
})();
log(counts());
e.emit('data', 's1');
e.emit('data', 's2');
count('main');
process.nextTick(() => {
  log('tick emits t1');
  e.emit('data', 't1');
});
setImmediate(() => {
  count('immediate');
  log('immediate emits i1');
  e.emit('data', 'i1');
  log('immediate emitted i1');
});
setImmediate(() => {
  log('second immediate emits i2 and i3');
  e.emit('data', 'i2');
  log('emit i3: ' + e.emit('data', 'i3'));
  queueMicrotask(() => log('emit i4: ' + e.emit('data', 'i4') + ', ' + counts()));
});
setImmediate(() => log('third immediate: ' + counts()));
log('main ends');
