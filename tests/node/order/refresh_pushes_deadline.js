// Rule: timeout.refresh() restarts the countdown: a 60 ms timer refreshed at 30 ms fires at ~90 ms, after a 70 ms timer.
const t = setTimeout(() => console.log('60 ms timer (refreshed)'), 60);
setTimeout(() => {
  console.log('30 ms: refresh');
  t.refresh();
}, 30);
setTimeout(() => console.log('70 ms timer'), 70);
