// Rule: ticks and microtasks scheduled in a timer, and their nested ones, all run before the check phase immediates.
setTimeout(() => {
  console.log('timer');
  setImmediate(() => console.log('immediate'));
  Promise.resolve().then(() => {
    console.log('promise');
    process.nextTick(() => console.log('tick from promise'));
  });
  process.nextTick(() => {
    console.log('tick');
    queueMicrotask(() => console.log('micro from tick'));
  });
}, 10);
