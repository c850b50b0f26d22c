// Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 4.
// "Forgetting that async functions always return Promises".
// Stub the snippet assumes (not in the article): a database whose lookups
// take 50 ms.
const users = { 123: { id: 123, name: 'Ada' }, 456: { id: 456, name: 'Grace' } };
const database = {
  getUser(id) {
    return new Promise((resolve) => setTimeout(() => resolve(users[id]), 50));
  },
};

// --- the article's snippet ---
// Easy to forget that this returns a Promise
async function getUserName(id) {
  const user = await database.getUser(id);
  return user.name;
}

// Wrong usage: Treating return value as string
const name = getUserName(123);
console.log(`Hello, ${name}`); // Will print "Hello, [object Promise]"

// Correct usage
getUserName(123).then(name => {
  console.log(`Hello, ${name}`);
});

// Or better yet, with async/await
async function greetUser(id) {
  const name = await getUserName(id);
  console.log(`Hello, ${name}`);
}
