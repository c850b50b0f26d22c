// Rule: adding an 11th listener for one event name prints one MaxListenersExceededWarning (on stderr; a leak hint, not an error): every listener stays and runs; setMaxListeners changes the limit, 0 means unlimited.
const { EventEmitter } = require('events');
const log = (s) => console.log(s);
const server = new EventEmitter();
log('default max ' + server.getMaxListeners());
let closed = 0;
// The leak: every request adds a 'close' listener that is never removed.
for (let i = 1; i <= 12; i++) {
  server.on('close', () => closed++);
}
log('close listeners ' + server.listenerCount('close'));
log('emit close: ' + server.emit('close') + ', ran ' + closed);
const quiet = new EventEmitter();
quiet.setMaxListeners(0);
for (let i = 0; i < 30; i++) quiet.on('data', () => {});
log('unlimited: ' + quiet.getMaxListeners() + ', data listeners ' + quiet.listenerCount('data'));
const tight = new EventEmitter();
tight.setMaxListeners(1);
tight.on('a', () => {});
tight.prependListener('a', () => {});
tight.on('a', () => {});
log('max ' + tight.getMaxListeners() + ', a listeners ' + tight.listenerCount('a'));
