// Rule: timers with the same delay created in sequence fire in creation order.
for (const name of ['A', 'B', 'C', 'D', 'E']) {
  setTimeout(() => console.log('timer ' + name), 10);
}
console.log('main');
