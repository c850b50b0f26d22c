// Article: "Common Pitfalls" 2, "Memory leaks with event listeners".
// Bad: every call adds a listener that is never removed. After 11 calls one
// chunk is printed 11 times, and Node warns about a possible leak (printed
// here to stdout from the process 'warning' event). Good: each listener
// removes itself once it has seen the end of its data, so 11 calls leave no
// listener behind, and there is no warning.
const EventEmitter = require('events');

process.on('warning', (warning) => {
  console.log(`${warning.name}: ${warning.message}`);
});

const bad = {};
const good = {};

// Bad: Event listener is never removed
bad.processData = function processData(emitter) {
  emitter.on('data', (data) => {
    console.log('Data received:', data);
  });
};

// Good: Event listener is removed when no longer needed
good.processData = function processData(emitter) {
  const handler = (data) => {
    console.log('Data received:', data);
    if (data.end) {
      emitter.removeListener('data', handler);
    }
  };

  emitter.on('data', handler);
};

console.log('Bad: 11 calls, then one chunk of data');
const leaky = new EventEmitter();
for (let i = 1; i <= 11; i++) {
  bad.processData(leaky);
}
// Node emits the warning on the next tick: let it print before going on.
setImmediate(() => {
  leaky.emit('data', { id: 1, end: true });
  console.log('data listeners left:', leaky.listenerCount('data'));

  console.log('Good: 11 calls, each followed by its (last) chunk of data');
  const tidy = new EventEmitter();
  for (let i = 1; i <= 11; i++) {
    good.processData(tidy);
    tidy.emit('data', { id: i, end: true });
  }
  console.log('data listeners left:', tidy.listenerCount('data'));
});
