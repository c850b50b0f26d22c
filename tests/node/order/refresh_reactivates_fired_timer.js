// Rule: refresh() on a timeout that has already fired schedules it again with the same delay and callback.
let runs = 0;
const t = setTimeout(() => {
  runs++;
  console.log('timer run ' + runs);
}, 10);
setTimeout(() => {
  console.log('30 ms: refresh the fired timer');
  t.refresh();
}, 30);
