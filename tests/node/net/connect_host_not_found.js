// Rule: a host name that does not resolve is a 'lookup' event with the error (poll phase), then 'error' (getaddrinfo ENOTFOUND name) on a next tick, then 'close' with hadError true in the close phase, after the immediates.
const net = require('net');
// Without a network the resolver may answer EAI_AGAIN for the name: either
// means it did not resolve.
const unresolved = (err) => err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN';
const client = net.connect(80, 'nonexistent.invalid', () => console.log('connected?!'));
client.on('lookup', (err, address, family, host) => {
  console.log('lookup', unresolved(err), address, family, host);
  process.nextTick(() => console.log('tick after lookup'));
  setImmediate(() => console.log('immediate after lookup'));
});
client.on('error', (err) => console.log('error', unresolved(err), err.syscall, err.hostname));
client.on('close', (hadError) => console.log('close ' + hadError));
process.nextTick(() => console.log('main tick'));
console.log('main end');
