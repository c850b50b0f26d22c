// Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 2.
// "Memory leaks with event listeners".
const EventEmitter = require('events');

// --- the article's snippet (as a script, the second processData replaces
// the first) ---
// Bad: Event listener is never removed
function processData(emitter) {
  emitter.on('data', (data) => {
    console.log('Data received:', data);
  });
}

// Good: Event listener is removed when no longer needed
function processData(emitter) {
  const handler = (data) => {
    console.log('Data received:', data);
    if (data.end) {
      emitter.removeListener('data', handler);
    }
  };

  emitter.on('data', handler);
}

// --- the driver (not in the article): an emitter, one call, some data ---
const emitter = new EventEmitter();
processData(emitter);
emitter.emit('data', { id: 1, end: false });
emitter.emit('data', { id: 2, end: true });
emitter.emit('data', { id: 3, end: false });
