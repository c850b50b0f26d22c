// Rule: process is an EventEmitter: once() listeners of 'beforeExit' run a single time, off() removes one, listenerCount counts them.
const a = () => console.log('a');
process.on('beforeExit', a);
process.once('beforeExit', () => {
  console.log('once, count', process.listenerCount('beforeExit'));
  process.off('beforeExit', a);
  setTimeout(() => console.log('more work'), 10);
});
process.on('beforeExit', () => console.log('b'));
console.log('listeners', process.listenerCount('beforeExit'));
