// Rule: called from the main script, an async function logs "before" synchronously and "after" only once the main script and the nextTick queue are done.
const log = (s) => console.log(s);
async function f(from) {
  log(from + ': before await');
  await null;
  log(from + ': after await');
}
process.nextTick(() => log('tick'));
f('main');
log('main: after call');
