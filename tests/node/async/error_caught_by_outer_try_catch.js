// Rule: an error thrown after an await deep in an async call chain propagates as a rejection through each await and is caught by the outer async function's try/catch.
const log = (s) => console.log(s);
async function inner() {
  log('inner: start');
  await null;
  log('inner: throwing');
  throw new Error('boom');
}
async function middle() {
  log('middle: start');
  await inner();
  log('middle: after inner (must not happen)');
}
(async function outer() {
  try {
    await middle();
    log('outer: no error (must not happen)');
  } catch (err) {
    log('outer: caught ' + err.message);
  } finally {
    log('outer: finally');
  }
  log('outer: done');
})();
log('main end');
