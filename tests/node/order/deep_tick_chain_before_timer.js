// Rule: a long recursive nextTick chain (1000 deep) runs entirely before a due timer.
let count = 0;
function again() {
  count++;
  if (count < 1000) process.nextTick(again);
}
setTimeout(() => console.log('timeout sees count ' + count), 0);
process.nextTick(again);
console.log('main sees count ' + count);
