// Rule: inside an immediate, once setTimeout(0) is due (we block 5 ms), it runs in the next timers phase, before a nested setImmediate.
const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setImmediate(() => {
  console.log('immediate');
  setImmediate(() => console.log('immediate (from immediate)'));
  setTimeout(() => console.log('timeout 0 (from immediate)'), 0);
  block(5); // without this block the order of the two lines below would be a real-time race
});
