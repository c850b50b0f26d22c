// Rule: awaiting an already-resolved native promise takes the same single tick as awaiting a plain value, so the two functions alternate.
const log = (s) => console.log(s);
const resolved = Promise.resolve('P');
async function onPromise() {
  log('promise: ' + (await resolved) + ' 1');
  log('promise: ' + (await resolved) + ' 2');
  log('promise: ' + (await resolved) + ' 3');
}
async function onValue() {
  log('value: ' + (await 'V') + ' 1');
  log('value: ' + (await 'V') + ' 2');
  log('value: ' + (await 'V') + ' 3');
}
onPromise();
onValue();
log('main end');
