// Rule: events.once(emitter, name) also listens for 'error' (once): an error emitted first rejects it and removes the name's listener; the name emitted first removes the 'error' listener; either way it resumes two microtask hops after the emit.
const { EventEmitter, once } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
(async () => {
  try {
    const [v] = await once(e, 'x');
    log('once(x) resolved with ' + v);
  } catch (err) {
    log('once(x) rejected with ' + err);
  }
})();
log('x listeners ' + e.listenerCount('x') + ', error listeners ' + e.listenerCount('error'));
setTimeout(() => {
  let n = 0;
  const count = () => {
    log('timer microtask ' + ++n);
    if (n < 3) queueMicrotask(count);
  };
  queueMicrotask(count);
  log('emit error: ' + e.emit('error', 7));
  log('x listeners ' + e.listenerCount('x') + ', error listeners ' + e.listenerCount('error'));
  log('emit x: ' + e.emit('x', 1));
}, 50);
setTimeout(() => {
  (async () => {
    try {
      const [v] = await once(e, 'x');
      log('second once(x) resolved with ' + v);
    } catch (err) {
      log('second once(x) rejected with ' + err);
    }
  })();
  setTimeout(() => {
    log('emit x: ' + e.emit('x', 2));
    log('x listeners ' + e.listenerCount('x') + ', error listeners ' + e.listenerCount('error'));
    try {
      e.emit('error', 8);
    } catch (err) {
      log('caught: ' + err.message);
    }
  }, 10);
}, 100);
