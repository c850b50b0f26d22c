// Rule: setInterval repeats until clearInterval; clearing it inside its 3rd run stops it.
let count = 0;
const iv = setInterval(() => {
  count++;
  console.log('interval run ' + count);
  if (count === 3) {
    clearInterval(iv);
    console.log('cleared after ' + count);
  }
}, 10);
console.log('main');
