// Rule: the 11th listener of one event raises a MaxListenersExceededWarning on a next tick (after the ticks queued before it), once per emitter and name; the listener is added.
const EventEmitter = require('events');
process.on('warning', (w) => console.log('warning', w.name + ':', w.message));
const e = new EventEmitter();
process.nextTick(() => console.log('tick before'));
for (let i = 0; i < 12; i++) e.on('data', () => {});
console.log('listeners', e.listenerCount('data'));
process.nextTick(() => console.log('tick after'));
