// Rule: exec runs the command in /bin/sh and calls back once with stdout and stderr as strings; a non-zero exit is an error with the code and 'Command failed: CMD' then stderr.
const { exec, execFile } = require('child_process');
exec('echo out; echo err >&2', (err, stdout, stderr) => {
  console.log(`exec ok err ${err} stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`);
  exec('echo partial; echo bad >&2; exit 4', (err, stdout, stderr) => {
    console.log(`exec fail code ${err.code} killed ${!!err.killed} signal ${err.signal ?? null} cmd ${err.cmd}`);
    console.log(`message ${JSON.stringify(err.message)}`);
    console.log(`stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`);
    execFile('echo', ['a b', 'c'], (err, stdout) => {
      console.log(`execFile err ${err} stdout ${JSON.stringify(stdout)}`);
    });
  });
});
