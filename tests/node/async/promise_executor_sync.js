// Rule: a promise executor runs synchronously; only its first resolve counts; an awaiting async function resumes as a microtask.
const log = (s) => console.log(s);
const p = new Promise((resolve, reject) => {
  log('executor runs');
  resolve('first');
  resolve('second (ignored)');
  reject(new Error('ignored'));
  log('executor end');
});
(async () => log('awaited: ' + (await p)))();
process.nextTick(() => log('tick'));
log('main end');
