// Rule: emit('error', value) with no 'error' listener throws, and the message shows a non-Error value as util.inspect does: strings quoted (single quotes unless the string has one), numbers and booleans as is, no value as undefined.
const { EventEmitter } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const tryEmit = (...args) => {
  try {
    e.emit('error', ...args);
    log('not reached');
  } catch (err) {
    log('caught: ' + err.message);
  }
};
tryEmit('some string');
tryEmit("it's");
tryEmit('say "it\'s"');
tryEmit('tab\there\nnewline \\ backslash');
tryEmit(42);
tryEmit(-7);
tryEmit(1.5);
tryEmit(2.0);
tryEmit(true);
tryEmit();
