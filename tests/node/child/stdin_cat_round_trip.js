// Rule: what is written to stdin comes back from cat on stdout; end() closes stdin, cat exits 0, and 'close' comes after stdout's 'end'.
const { spawn } = require('child_process');
const child = spawn('cat');
let out = '';
child.stdout.on('data', (d) => { out += d; });
child.stdout.on('end', () => console.log(`stdout end ${JSON.stringify(out)}`));
console.log(`write ${child.stdin.write('one\n')}`);
child.stdin.write('two\n');
child.stdin.end('three\n');
child.on('exit', (code, signal) => console.log(`exit ${code} ${signal}`));
child.on('close', (code, signal) => console.log(`close ${code} ${signal}`));
