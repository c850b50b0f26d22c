// Rule: events.on also listens for 'error': an error emitted while next() waits rejects it one microtask hop later; one emitted with events buffered is thrown after them; either way both listeners are removed at once and the iteration ends; with no 'error' listener left, a later 'error' emit throws.
const { EventEmitter, on } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const counts = () => 'x listeners ' + e.listenerCount('x') + ', error listeners ' + e.listenerCount('error');
const consume = async (label) => {
  try {
    for await (const [v] of on(e, 'x')) log(label + ' got ' + v);
    log(label + ' ended');
  } catch (err) {
    log(label + ' threw ' + err);
  }
};
consume('first');
setTimeout(() => {
  queueMicrotask(() => log('timer microtask'));
  log('emit error: ' + e.emit('error', 7));
  log(counts());
  log('emit x: ' + e.emit('x', 1));
}, 50);
setTimeout(() => {
  consume('second');
  e.emit('x', 2);
  e.emit('x', 3);
  log('emit error: ' + e.emit('error', 8));
  log(counts());
  queueMicrotask(() => log('timer microtask'));
}, 100);
setTimeout(() => {
  consume('third');
  e.emit('x', 4);
  e.emit('error', 9);
  try {
    e.emit('error', 10);
  } catch (err) {
    log('caught: ' + err.message);
  }
}, 150);
