// Rule: unref() followed by ref() restores keep-alive: the timer keeps the process alive and fires.
const t = setTimeout(() => console.log('timer fires after unref+ref'), 20);
t.unref();
t.ref();
const u = setTimeout(() => console.log('only unref (must not happen)'), 100);
u.unref();
console.log('main');
