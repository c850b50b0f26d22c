// setTimeout(0) against setImmediate from the main script. Node's timer is
// 1 ms; the first timers phase runs it only if that millisecond has passed
// since the main script read the clock, which depends on the machine: both
// orders are legal, and Node prints each on some runs (about 1 run in 4
// printed "timeout" first here). Not a scenario with one `.out`: the test
// (tests/node/explore.rs) runs it several times and checks that every order
// Node prints is one evloop's exploration found.
setTimeout(() => console.log('timeout'), 0);
setImmediate(() => console.log('immediate'));
