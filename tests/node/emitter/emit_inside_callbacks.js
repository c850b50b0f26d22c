// Rule: emit calls its listeners synchronously, in registration order, inside the current callback (timer, tick, microtask, immediate); what they schedule drains after that callback as usual.
const { EventEmitter } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
e.on('data', (where) => {
  log('A got ' + where);
  process.nextTick(() => log('tick from A (' + where + ')'));
  Promise.resolve().then(() => log('microtask from A (' + where + ')'));
});
e.on('data', (where) => {
  log('B got ' + where);
  setImmediate(() => log('immediate from B (' + where + ')'));
});
setTimeout(() => {
  log('timer start');
  log('emit returned ' + e.emit('data', 'timer'));
  process.nextTick(() => e.emit('data', 'tick'));
  queueMicrotask(() => e.emit('data', 'microtask'));
  setImmediate(() => e.emit('data', 'immediate'));
  log('timer end');
}, 50);
setTimeout(() => log('timer 2, emit with no listener returned ' + e.emit('other', 1)), 100);
log('main: ' + e.listenerCount('data') + ' listeners');
