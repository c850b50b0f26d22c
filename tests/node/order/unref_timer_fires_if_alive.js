// Rule: an unref'd timer still fires when something else keeps the loop alive past its deadline.
const t = setTimeout(() => console.log('unref 10 ms timer fires'), 10);
t.unref();
setTimeout(() => console.log('ref 40 ms timer'), 40);
console.log('main');
