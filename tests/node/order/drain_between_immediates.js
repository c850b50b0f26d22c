// Rule: ticks then microtasks drain after EACH immediate callback in the check phase.
for (const name of ['A', 'B', 'C']) {
  setImmediate(() => {
    console.log('immediate ' + name);
    Promise.resolve().then(() => console.log('promise ' + name));
    process.nextTick(() => console.log('tick ' + name));
  });
}
console.log('main');
