// Rule: a limiter with concurrency 2 over 5 jobs (200, 50, 400, 50, 100 ms) starts each queued job as soon as a running one ends.
const log = (s) => console.log(s);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function limit(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || queue.length === 0) return;
    active++;
    const { fn, resolve, reject } = queue.shift();
    fn().then(resolve, reject).finally(() => {
      active--;
      next();
    });
  };
  return (fn) => new Promise((resolve, reject) => {
    queue.push({ fn, resolve, reject });
    next();
  });
}
const run = limit(2);
const job = (name, ms) => run(async () => {
  log('start ' + name);
  await sleep(ms);
  log('end ' + name);
  return name;
});
const jobs = [['j1', 200], ['j2', 50], ['j3', 400], ['j4', 50], ['j5', 100]];
Promise.all(jobs.map(([name, ms]) => job(name, ms))).then((r) => log('results: ' + r.join(',')));
