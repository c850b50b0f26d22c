// Rule: hasRef() is true for a new timer, false after unref(), true again after ref(); an interval behaves the same.
const t = setTimeout(() => console.log('timer fired'), 10);
console.log('new: ' + t.hasRef());
t.unref();
console.log('after unref: ' + t.hasRef());
t.ref();
console.log('after ref: ' + t.hasRef());
const iv = setInterval(() => {}, 1000);
iv.unref();
console.log('interval after unref: ' + iv.hasRef());
clearInterval(iv);
