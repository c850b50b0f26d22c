// Rule: listeners(name) lists a name's listeners in calling order (a once-listener as itself), rawListeners(name) shows once-wrappers; an errorMonitor listener sees each 'error' before the regular listeners and does not count as one: with no 'error' listener the emit still throws, after the monitors ran.
const { EventEmitter, errorMonitor } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
const a = () => {};
const b = () => {};
const c = () => {};
e.on('x', a);
e.once('x', b);
e.prependListener('x', c);
e.on('x', a);
const names = new Map([[a, 'a'], [b, 'b'], [c, 'c']]);
log('listeners: ' + e.listeners('x').map((f) => names.get(f)).join(' '));
log('raw: ' + e.rawListeners('x').map((f) => names.get(f) || 'once(' + names.get(f.listener) + ')').join(' '));
e.emit('x');
log('after emit: ' + e.listeners('x').map((f) => names.get(f)).join(' '));
log('listeners of none: ' + e.listeners('none').length);
e.on(errorMonitor, (err) => log('monitor 1 saw ' + err));
e.on(errorMonitor, (err) => log('monitor 2 saw ' + err));
log('error listeners: ' + e.listenerCount('error'));
try {
  e.emit('error', 1);
} catch (err) {
  log('caught: ' + err.message);
}
e.on('error', (err) => log('listener saw ' + err));
log('emit error: ' + e.emit('error', 2));
