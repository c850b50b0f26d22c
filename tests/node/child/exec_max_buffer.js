// Rule: output past maxBuffer is an error ERR_CHILD_PROCESS_STDIO_MAXBUFFER ('stdout maxBuffer length exceeded'); the child is killed with SIGTERM and the callback runs at its 'close', after 'exit'; stdout holds the first maxBuffer bytes.
const { exec } = require('child_process');
const child = exec('echo 0123456789; sleep 10', { maxBuffer: 4 }, (err, stdout, stderr) => {
  console.log(`code ${err.code} message ${err.message} name ${err.name}`);
  console.log(`killed ${!!err.killed} signal ${err.signal ?? null} cmd ${err.cmd}`);
  console.log(`stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`);
});
child.on('exit', (code, signal) => console.log(`child exit ${code} ${signal} killed ${child.killed}`));
