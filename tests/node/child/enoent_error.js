// Rule: a missing program is an 'error' event (message 'spawn NAME ENOENT', code ENOENT) on a next tick queued by spawn(), never 'spawn' or 'exit'; 'close' follows in the close phase (after the immediate) with code -2 and a null signal.
const { spawn } = require('child_process');
const child = spawn('nope-not-a-program', ['a']);
console.log(`pid ${child.pid}`);
child.on('spawn', () => console.log('spawn'));
child.on('exit', (code, signal) => console.log(`exit ${code} ${signal}`));
child.on('error', (e) => console.log(`error ${e.message} code ${e.code}`));
child.on('close', (code, signal) => console.log(`close ${code} ${signal}`));
process.nextTick(() => console.log('tick'));
setImmediate(() => console.log('immediate'));
