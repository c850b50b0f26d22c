// Rule: called from an immediate, an async function's "after await" runs right after that immediate (after its ticks), before the next immediate.
const log = (s) => console.log(s);
async function f(from) {
  log(from + ': before await');
  await null;
  log(from + ': after await');
}
setImmediate(() => {
  process.nextTick(() => log('tick from immediate 1'));
  f('immediate 1');
  log('immediate 1: after call');
});
setImmediate(() => f('immediate 2'));
