// Rule: two async functions each awaiting 3 times and a .then chain advance one step per microtask round, round-robin in start order.
const log = (s) => console.log(s);
async function worker(name) {
  log(name + ' start');
  await null;
  log(name + ' after await 1');
  await null;
  log(name + ' after await 2');
  await null;
  log(name + ' after await 3');
}
worker('A');
Promise.resolve()
  .then(() => log('then 1'))
  .then(() => log('then 2'))
  .then(() => log('then 3'));
worker('B');
log('main end');
