// Rule: an unref'd timer does not keep the process alive: the loop ends when only it is left, and it never fires.
const t = setTimeout(() => console.log('unref 80 ms timer (must not happen)'), 80);
t.unref();
setTimeout(() => console.log('ref 30 ms timer'), 30);
setImmediate(() => console.log('immediate'));
console.log('main');
