// Rule: clearTimeout of an already-fired timer, a twice-cleared timer, undefined or null is a harmless no-op.
const fired = setTimeout(() => console.log('fired runs'), 5);
const cleared = setTimeout(() => console.log('cleared runs (must not happen)'), 5);
clearTimeout(cleared);
setTimeout(() => {
  clearTimeout(fired);
  clearTimeout(cleared);
  clearTimeout(undefined);
  clearTimeout(null);
  console.log('no-op clears done');
  setTimeout(() => console.log('later timer still runs'), 5);
}, 20);
