// Rule: reactions to one promise run in registration order, whether registered by .then or by await.
const log = (s) => console.log(s);
let resolve;
const p = new Promise((r) => { resolve = r; });
p.then((v) => log('then 1: ' + v));
(async () => {
  log('async: awaiting');
  log('async: got ' + (await p));
})();
p.then((v) => log('then 2: ' + v));
setTimeout(() => {
  log('timer resolves p');
  resolve('X');
  log('timer end');
}, 10);
