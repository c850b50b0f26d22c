// Rule: three sequential await sleep(100) finish at 100, 200, 300 ms; the same three in Promise.all all finish at 100 ms, before sequential step 2.
const log = (s) => console.log(s);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
(async () => {
  for (const step of [1, 2, 3]) {
    await sleep(100);
    log('sequential: step ' + step + ' done');
  }
  log('sequential: all done');
})();
(async () => {
  await Promise.all(['a', 'b', 'c'].map(async (name) => {
    await sleep(100);
    log('parallel: ' + name + ' done');
  }));
  log('parallel: all done');
})();
log('main end');
