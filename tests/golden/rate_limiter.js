// Article: "Rate Limiting and Throttling". 20 requests through a limiter of
// 5 requests per second. The limiter's queue runs them one at a time
// (processQueue awaits each request before it looks at the next), and never
// starts more than 5 in any second: from the 6th on, each request starts
// exactly 1000 ms after the one five places before it (a sliding window).
// Where a request need not wait, "Making ... ID n+1" comes right after
// request n finished, before "Got data for ID n" (a promise reaction, a few
// microtask ticks later); where it must wait, "Got data" comes first.
//
// The API is a local HTTP server on 127.0.0.1 started here. It answers the
// first five requests after 100 ms and the others at once, so which requests
// wait does not depend on how fast the machine is. The log line also shows
// the milliseconds since the start, so the pacing can be checked.
const http = require('http');

let start = Date.now(); // reset when the requests begin
const server = http.createServer((req, res) => {
  const id = Number(req.url.split('/').pop());
  res.setHeader('Content-Type', 'application/json');
  setTimeout(() => res.end(JSON.stringify({ id, name: `Item ${id}` })), id >= 1 && id <= 5 ? 100 : 0);
});
let API; // set once the server listens
let finished = 0;
function requestDone() {
  if (++finished === 20) server.close();
}

class RateLimiter {
  constructor(maxRequests, timeWindow) {
    this.maxRequests = maxRequests; // Maximum requests in time window
    this.timeWindow = timeWindow;   // Time window in milliseconds
    this.queue = [];                // Queue of pending requests
    this.timestamps = [];           // Timestamps of completed requests
    this.processing = false;        // Flag to prevent multiple queue processing
  }
  
  async executeRequest(requestFn) {
    return new Promise((resolve, reject) => {
      // Add to queue
      this.queue.push({ requestFn, resolve, reject });
      this.processQueue();
    });
  }
  
  async processQueue() {
    if (this.processing) return;
    this.processing = true;
  
    while (this.queue.length > 0) {
      // Check if we can make a request
      const now = Date.now();
      // Remove timestamps outside the time window
      this.timestamps = this.timestamps.filter(
        time => time > now - this.timeWindow
      );
    
      if (this.timestamps.length < this.maxRequests) {
        // We can make a request
        const { requestFn, resolve, reject } = this.queue.shift();
        this.timestamps.push(now);
      
        try {
          const result = await requestFn();
          resolve(result);
        } catch (error) {
          reject(error);
        }
      } else {
        // Need to wait before making another request
        const oldestTimestamp = this.timestamps[0];
        const timeToWait = oldestTimestamp + this.timeWindow - now;
        await new Promise(resolve => setTimeout(resolve, timeToWait));
      }
    }
  
    this.processing = false;
  }
}

// Usage example
const limiter = new RateLimiter(5, 1000); // 5 requests per second

async function makeApiRequest(id) {
  return limiter.executeRequest(async () => {
    console.log(`Making API request for ID ${id} at ${new Date().toISOString()} (${Date.now() - start} ms)`);
    // Simulate API call
    const result = await fetch(`${API}/items/${id}`);
    return result.json();
  });
}

server.listen(0, '127.0.0.1', async () => {
  API = `http://127.0.0.1:${server.address().port}`;
  // Node loads its HTTP client on the first fetch, which can take most of a
  // second on a busy machine: do that before the clock matters.
  await (await fetch(`${API}/items/0`)).json();
  start = Date.now();

  // Make multiple requests
  for (let i = 1; i <= 20; i++) {
    makeApiRequest(i).then(data => {
      console.log(`Got data for ID ${i}`);
    }).catch(err => {
      console.error(`Error fetching ID ${i}:`, err);
    }).finally(requestDone);
  }
});
