// Three timers 1, 2 and 3 ms after the main script, each setting an
// immediate. On time, each timer's immediate runs before the next timer;
// a loop that wakes late (a busy machine) runs two or three timers in one
// timers phase, before their immediates. The test (tests/node/explore.rs)
// checks that every order Node prints is one evloop's exploration found
// (Node usually prints A iA B iB C iC).
for (const [name, ms] of [['A', 1], ['B', 2], ['C', 3]]) {
  setTimeout(() => {
    console.log(name);
    setImmediate(() => console.log(`i${name}`));
  }, ms);
}
