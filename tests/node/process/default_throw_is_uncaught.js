// Rule: with no 'unhandledRejection' listener (Node 20's default mode, throw), an unhandled rejection is an uncaught exception (origin 'unhandledRejection'); an uncaughtException handler takes it and the program goes on.
process.on('uncaughtException', (err, origin) => console.log('uncaught:', err.message, origin));
async function fail(message) {
  throw new Error(message);
}
// The pitfall: b rejects while main still awaits a, so nothing handles b in time.
async function main() {
  const a = new Promise((resolve) => setTimeout(() => resolve('a'), 10));
  const b = fail('b failed');
  console.log('awaiting a');
  console.log('got', await a);
  try {
    await b;
  } catch (e) {
    console.log('caught late:', e.message);
  }
}
main().then(() => console.log('main done'));
process.on('exit', () => console.log('exit'));
