// Rule: a timer's callback reaches its own Timeout as `this`: an interval clears itself through it, and refresh() returns the timer.
// (The timeout is set once the interval is cleared, so a late loop cannot run the two in one pass.)
let n = 0;
setInterval(function () {
  n++;
  console.log('interval run', n);
  if (n === 3) {
    clearInterval(this);
    console.log('interval cleared through this');
    const t = setTimeout(function () {
      console.log('timeout is its own handle:', this === t);
      console.log('has ref:', this.hasRef());
    }, 30);
    console.log('refresh returns the timer:', t.refresh() === t);
  }
}, 5);
