// Article: "A Simple Example of Asynchronous Execution". The snippet as is.
console.log("Start");

setTimeout(() => {
  console.log("Timer finished");
}, 1000);

console.log("End");
