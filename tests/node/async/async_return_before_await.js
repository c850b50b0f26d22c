// Rule: an async function that returns before any await runs its whole body synchronously; .then on its result still runs as a microtask, after ticks.
const log = (s) => console.log(s);
async function early(flag) {
  log('early body, flag=' + flag);
  if (flag) return 'early result';
  await null;
  return 'late result';
}
const p = early(true);
log('after call');
p.then((v) => log('then: ' + v));
process.nextTick(() => log('tick'));
queueMicrotask(() => log('queueMicrotask'));
log('main end');
