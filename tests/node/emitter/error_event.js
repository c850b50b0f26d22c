// Rule: emit('error') with no 'error' listener throws (try/catch sees it; inside a callback it is an uncaught exception); with a listener it is an ordinary event.
const { EventEmitter } = require('events');
const log = (s) => console.log(s);
process.on('uncaughtException', (err) => log('uncaughtException: ' + err.message));
const e = new EventEmitter();
try {
  e.emit('error', 42);
  log('not reached');
} catch (err) {
  log('caught: ' + err.message);
}
log('emit other with no listener: ' + e.emit('other', 1));
e.once('error', (code) => log('once error listener got ' + code));
log('emit error with a listener: ' + e.emit('error', 7));
try {
  e.emit('error', 8);
} catch (err) {
  log('caught again: ' + err.message);
}
setTimeout(() => {
  log('timer 1 emits error');
  process.nextTick(() => log('tick from timer 1'));
  e.emit('error', 9);
  log('not reached');
}, 50);
setTimeout(() => log('timer 2 still runs'), 100);
