// Article: "Advanced Concurrency Management Techniques", "Rate Limiting and
// Throttling".
// The API the snippet fetches (not in the article): a local HTTP server in
// place of https://api.example.com. It answers the first five requests after
// 100 ms and the others at once, so which requests must wait for the window
// does not depend on the machine's speed. Without a host, listen() binds at
// once, so the address is known before the snippet runs; the server closes
// each connection and is unref'd, so the process ends when the requests are
// done.
const http = require('http');
const server = http.createServer((req, res) => {
  const id = Number(req.url.split('/').pop());
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Connection', 'close');
  setTimeout(() => res.end(JSON.stringify({ id, name: `Item ${id}` })), id <= 5 ? 100 : 0);
});
server.listen(0);
server.unref();
const API = `http://127.0.0.1:${server.address().port}`;
// Node loads its fetch on the first call, which can take most of a second
// on a busy machine: load it now, before the requests are timed.
fetch('data:,').catch(() => {});

// --- the article's snippet (fetching from API) ---
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
    console.log(`Making API request for ID ${id} at ${new Date().toISOString()}`);
    // Simulate API call
    const result = await fetch(`${API}/items/${id}`);
    return result.json();
  });
}

// Make multiple requests
for (let i = 1; i <= 20; i++) {
  makeApiRequest(i).then(data => {
    console.log(`Got data for ID ${i}`);
  }).catch(err => {
    console.error(`Error fetching ID ${i}:`, err);
  });
}
