// Article: "The Single-Threaded Nature of JavaScript". The snippet as is.
console.log("First");
console.log("Second");
console.log("Third");
