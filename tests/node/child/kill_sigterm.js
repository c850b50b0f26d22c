// Rule: kill() sends SIGTERM and returns true; 'exit' and 'close' report a null code and the signal's name; killed is true.
const { spawn } = require('child_process');
const child = spawn('sleep', ['10']);
child.on('spawn', () => {
  console.log(`kill ${child.kill()}`);
  console.log(`killed ${child.killed}`);
});
child.on('exit', (code, signal) => console.log(`exit ${code} ${signal}`));
child.on('close', (code, signal) => console.log(`close ${code} ${signal} exitCode ${child.exitCode} signalCode ${child.signalCode}`));
