// Rule: a piped stdout or stderr of a child is one end of a socket pair (libuv's
// UV_CREATE_PIPE uses socketpair), not a pipe; the child can tell.
const { spawn } = require('child_process');
const script = 'for f in /dev/stdout /dev/stderr; do if [ -S $f ]; then echo "$f: socket"; elif [ -p $f ]; then echo "$f: pipe"; else echo "$f: other"; fi; done';
const child = spawn('sh', ['-c', script]);
child.stdout.on('data', (d) => process.stdout.write(d));
child.on('close', (code) => console.log(`close ${code}`));
