// Rule: 'spawn' comes first (on a next tick after spawn()), then 'exit' with the code and a null signal, then 'close' with the same, after 'exit' and after both output streams have ended; each stream's data arrives before its 'end'.
const { spawn } = require('child_process');
const child = spawn('sh', ['-c', 'echo hi; echo err >&2; exit 3']);
const seen = { out: '', err: '', outEnded: false, errEnded: false, exited: false };
child.on('spawn', () => console.log('spawn'));
process.nextTick(() => console.log('tick after spawn()'));
child.stdout.on('data', (d) => { seen.out += d; });
child.stderr.on('data', (d) => { seen.err += d; });
child.stdout.on('end', () => { seen.outEnded = true; });
child.stderr.on('end', () => { seen.errEnded = true; });
child.on('exit', (code, signal) => { seen.exited = true; console.log(`exit ${code} ${signal}`); });
child.on('close', (code, signal) => {
  console.log(`stdout ${JSON.stringify(seen.out)} ended ${seen.outEnded}`);
  console.log(`stderr ${JSON.stringify(seen.err)} ended ${seen.errEnded}`);
  console.log(`close ${code} ${signal} after exit ${seen.exited}`);
});
console.log('main done');
