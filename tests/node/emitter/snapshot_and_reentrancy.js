// Rule: emit works on a snapshot: listeners added or removed during an emit only affect later emits; a listener may re-emit the same event, and the nested emit runs to completion first.
const { EventEmitter } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const c = (n) => log('C ' + n);
const a = (n) => {
  log('A ' + n);
  if (n === 1) {
    e.on('x', (m) => log('D (added by A) ' + m));
    e.off('x', c);
    e.off('x', a);
  }
};
const b = (n) => {
  log('B ' + n);
  if (n === 1) log('B re-emitted: ' + e.emit('x', 2));
};
e.on('x', a);
e.on('x', b);
e.on('x', c);
log('first emit: ' + e.emit('x', 1));
log('count ' + e.listenerCount('x'));
log('second emit: ' + e.emit('x', 3));
e.on('x', function self(n) {
  e.off('x', self);
  log('E removes itself, re-emits: ' + e.emit('x', n + 1));
});
log('third emit: ' + e.emit('x', 10));
e.removeAllListeners('x');
log('after removeAllListeners: ' + e.emit('x', 20) + ', names [' + e.eventNames() + ']');
