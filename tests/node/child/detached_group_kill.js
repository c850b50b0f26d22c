// Rule: a detached child leads a new process group; process.kill(-child.pid) reaches the commands the shell started too, so 'close' comes at once (the background sleep held the pipe); child.killed stays false.
const { spawn } = require('child_process');
const child = spawn('sh', ['-c', 'sleep 300 & echo ready; wait'], { detached: true });
child.stdout.once('data', (d) => {
  console.log(`stdout ${d.toString().trim()}`);
  console.log(`kill ${process.kill(-child.pid, 'SIGTERM')}`);
  console.log(`killed ${child.killed}`);
});
child.on('exit', (code, signal) => console.log(`exit ${code} ${signal}`));
child.on('close', (code, signal) => console.log(`close ${code} ${signal}`));
