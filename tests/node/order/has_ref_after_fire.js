// Rule: hasRef() reports the ref flag only: a fired timeout still says true, an unref'd fired one false, a cleared ref'd one true.
const a = setTimeout(() => console.log('a fired'), 5);
const b = setTimeout(() => console.log('b fired'), 5);
b.unref();
const c = setTimeout(() => console.log('c fired (must not happen)'), 5);
clearTimeout(c);
setTimeout(() => {
  console.log('a.hasRef() after fire: ' + a.hasRef());
  console.log('b.hasRef() after fire: ' + b.hasRef());
  console.log('c.hasRef() after clear: ' + c.hasRef());
}, 20);
