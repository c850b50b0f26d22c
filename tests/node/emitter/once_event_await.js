// Rule: await events.once(emitter, name) resumes two microtask hops after the emitting callback (one more if the emit comes before the first checkpoint); a plain promise resolved by a listener resumes after one.
const { EventEmitter, once } = require('events');
const log = (s) => console.log(s);
const e = new EventEmitter();
(async () => {
  const [v] = await once(e, 'x');
  log('once(x) resolved with ' + v);
})();
(async () => {
  const v = await new Promise((resolve) => e.once('x', resolve));
  log('promise of x resolved with ' + v);
})();
log('x listeners ' + e.listenerCount('x'));
setTimeout(() => {
  let n = 0;
  const count = () => {
    log('timer microtask ' + ++n);
    if (n < 4) queueMicrotask(count);
  };
  queueMicrotask(count);
  process.nextTick(() => log('timer tick'));
  log('emit x: ' + e.emit('x', 1));
  log('x listeners ' + e.listenerCount('x'));
}, 50);
const f = new EventEmitter();
(async () => {
  const [v] = await once(f, 'y');
  log('once(y) resolved with ' + v);
})();
let m = 0;
const count = () => {
  log('main microtask ' + ++m);
  if (m < 4) queueMicrotask(count);
};
queueMicrotask(count);
f.emit('y', 2);
log('main end');
