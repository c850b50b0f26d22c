// Rule: a rejection skips the .then handlers after it and is caught by the next .catch; the chain then continues with the .catch's return value.
const log = (s) => console.log(s);
new Promise((_, reject) => setTimeout(() => reject(new Error('timer failed')), 10))
  .then(() => log('then (must not happen)'))
  .catch((err) => {
    log('caught: ' + err.message);
    return 'recovered';
  })
  .then((v) => log('then after catch: ' + v));
Promise.reject(new Error('sync reject'))
  .catch((err) => log('caught: ' + err.message));
log('main end');
