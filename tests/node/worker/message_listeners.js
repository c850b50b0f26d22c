// Rule: a Worker is an EventEmitter: every 'message' listener gets each message (the same value) in registration order, a once-listener only the first, and one added while a message is delivered only the later ones; each message is its own callback (its ticks run before the next); 'online', 'error' and 'exit' take several listeners too; a worker whose parentPort has only a once-listener exits after that message.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const log = (s) => console.log(s);
if (isMainThread) {
  const w = new Worker(__filename, { workerData: 'reply' });
  w.on('online', () => log('online A'));
  w.once('online', () => log('online B'));
  w.on('message', (m) => {
    log('first listener: ' + m);
    process.nextTick(() => log('tick after ' + m));
  });
  w.once('message', (m) => log('once listener: ' + m));
  w.on('message', (m) => {
    log('second listener: ' + m);
    if (m === 'b') w.on('message', (late) => log('late listener: ' + late));
  });
  log('message listeners ' + w.listenerCount('message'));
  w.on('exit', (code) => log('exit A ' + code));
  w.once('exit', (code) => {
    log('exit B ' + code + ', message listeners ' + w.listenerCount('message'));
    const v = new Worker(__filename, { workerData: 'throw' });
    v.on('error', (err) => log('error A ' + err.message));
    v.once('error', (err) => log('error B ' + err.message));
    v.on('exit', (code) => log('second worker exit ' + code));
  });
  w.postMessage('ping');
} else if (workerData === 'throw') {
  throw new Error('boom');
} else {
  parentPort.once('message', (m) => {
    parentPort.postMessage('a');
    parentPort.postMessage('b');
    parentPort.postMessage('c');
  });
}
