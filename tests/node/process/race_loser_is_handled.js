// Rule: a promise awaited once is handled for good: the loser of Promise.race that rejects after the race settled is no unhandled rejection; a promise never awaited is.
process.on('unhandledRejection', (reason) => console.log('unhandledRejection', reason));
function failAfter(ms, reason) {
  return new Promise((resolve, reject) => setTimeout(() => reject(reason), ms));
}
function resolveAfter(ms, value) {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
async function main() {
  const winner = resolveAfter(50, 'winner');
  const loser = failAfter(100, 'loser');
  failAfter(150, 'never awaited');
  console.log('race:', await Promise.race([winner, loser]));
}
main();
setTimeout(() => console.log('after both'), 200);
