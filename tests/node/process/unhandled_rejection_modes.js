// Rule: what each --unhandled-rejections mode does with a rejection nobody handles, with and without an 'unhandledRejection' listener: emit the event, raise it (uncaughtException, origin unhandledRejection), warn (two warnings), set the exit code. Each case runs in a child node with the flag.
const { spawnSync } = require('child_process');
const scenario = (listen) => `
process.on('uncaughtException', (err, origin) => console.log('raised', origin));
${listen ? "process.on('unhandledRejection', (r) => console.log('unhandledRejection', r));" : ''}
process.on('warning', (w) => console.log(w.name));
process.on('exit', (code) => console.log('exit', code));
Promise.reject('x');
`;
for (const mode of ['throw', 'strict', 'warn', 'none', 'warn-with-error-code']) {
  for (const listen of [true, false]) {
    const child = spawnSync(process.execPath, [`--unhandled-rejections=${mode}`, '-e', scenario(listen)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = child.stdout.trim().split('\n').join(' / ');
    console.log(`${mode}, ${listen ? 'listening' : 'nobody listens'}: ${lines}`);
  }
}
