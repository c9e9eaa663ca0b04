'use strict';

// Benchmark (not a test): throughput and p99 of POST and GET at 1,000 and
// 10,000 orders, and the peak RSS of service2 while serving GET at 10,000 and
// 100,000 orders, next to the prototype's buffering GET measured in the same
// run. Needs MONGODB_URL (make bench starts devdb). Prints figures only.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { startService, uniqueDatabase, mongoUrl, connect } = require('@orders/testkit');

const root = path.resolve(__dirname, '..');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function once(url, method) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** load sends total requests, concurrency at a time, and summarises them. */
async function load(url, method, { concurrency, total }) {
  const latencies = [];
  let errors = 0;
  let sent = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (sent < total) {
      sent++;
      const { status, ms } = await once(url, method);
      if (status !== 200) errors++;
      latencies.push(ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: total / seconds, p50: pct(50), p99: pct(99), errors };
}

async function preload(db, count) {
  await db.orders.deleteMany({});
  for (let i = 1; i <= count; i += 5000) {
    const batch = [];
    for (let id = i; id < i + 5000 && id <= count; id++) batch.push({ _id: id });
    await db.orders.insertMany(batch, { ordered: false });
  }
  await db.counters.updateOne({ _id: 'orderSeq' }, { $set: { seq: count } }, { upsert: true });
}

// peakRss samples VmRSS of pid while fn runs; VmHWM would include start-up.
async function peakRss(pid, fn) {
  const read = () => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1]) * 1024;
  let peak = read();
  const idle = peak;
  const timer = setInterval(() => { peak = Math.max(peak, read()); }, 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, read());
  return { idle, peak };
}

const mib = (bytes) => (bytes / 1048576).toFixed(1);
const row = (cells) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 34 : 12)).join(''));

async function main() {
  mongoUrl();
  console.log(`node ${process.version}, ${require('node:os').cpus().length} cores; database: devdb (FerretDB on SQLite) unless MONGODB_URL says otherwise\n`);

  console.log('Throughput and latency (keep-alive, 32 concurrent clients)');
  row(['case', 'req/s', 'p50 ms', 'p99 ms', 'errors']);
  for (const size of [1000, 10000]) {
    const database = uniqueDatabase('bench');
    const db = await connect(database);
    await preload(db, size);
    const env = { MONGODB_URL: mongoUrl(), MONGODB_DB: database, LOG_LEVEL: 'info' };
    const s1 = await startService(path.join(root, 'service1'), env, { quiet: true });
    const s2 = await startService(path.join(root, 'service2'), env, { quiet: true });
    await once(`${s2.base}/orders`, 'GET'); // warm the connection pool
    const post = await load(`${s1.base}/orders`, 'POST', { concurrency: 32, total: 2000 });
    // Reset to exactly `size` orders so GET measures the size it names.
    await preload(db, size);
    const get = await load(`${s2.base}/orders`, 'GET', { concurrency: 8, total: size >= 10000 ? 100 : 400 });
    row([`POST /orders at ${size} orders`, post.rps.toFixed(0), post.p50.toFixed(1), post.p99.toFixed(1), post.errors]);
    row([`GET /orders at ${size} orders`, get.rps.toFixed(1), get.p50.toFixed(1), get.p99.toFixed(1), get.errors]);
    await Promise.all([s1.stop(), s2.stop()]);
    await db.db.dropDatabase();
    await db.close();
  }

  console.log('\nPeak RSS while serving GET /orders (4 concurrent clients, 20 requests; fresh process each)');
  row(['server', 'orders', 'idle MiB', 'peak MiB', 'peak - idle']);
  const growth = {};
  for (const size of [10000, 100000]) {
    const database = uniqueDatabase('bench');
    const db = await connect(database);
    await preload(db, size);
    const env = { MONGODB_URL: mongoUrl(), MONGODB_DB: database, LOG_LEVEL: 'info' };
    for (const [name, dir, file] of [
      ['service2 (streaming)', path.join(root, 'service2'), 'index.js'],
      ['prototype (toArray)', __dirname, 'prototype-list.js'],
    ]) {
      const svc = await startService(dir, env, { entry: file, quiet: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { idle, peak } = await peakRss(svc.child.pid, () => load(`${svc.base}/orders`, 'GET', { concurrency: 4, total: 20 }));
      growth[`${name}@${size}`] = peak - idle;
      row([name, size, mib(idle), mib(peak), mib(peak - idle)]);
      await svc.stop('SIGKILL');
    }
    await db.db.dropDatabase();
    await db.close();
  }
  const ratio = (name) => (growth[`${name}@100000`] / growth[`${name}@10000`]).toFixed(1);
  console.log(`\nGrowth from 10,000 to 100,000 orders (peak - idle): streaming ×${ratio('service2 (streaming)')}, prototype ×${ratio('prototype (toArray)')}`);
  console.log(`At 100,000 orders the streaming service grows ${(growth['service2 (streaming)@100000'] / growth['prototype (toArray)@100000']).toFixed(2)} × what the prototype grows`);
  agent.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
