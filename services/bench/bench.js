'use strict';

// Benchmark (not a test): throughput and p99 of POST and GET /orders at 1,000
// and 10,000 orders, each as a ratio against a prototype-equivalent baseline
// measured in the same run on the same database, and the peak RSS of service2
// while serving GET at 10,000 and 100,000 orders next to the prototype's
// buffering GET. Needs MONGODB_URL (make bench starts devdb). Prints figures
// only.
//
// The machine may be shared and noisy: each case runs BENCH_ROUNDS times (3 by
// default), ours and the baseline back to back with the order swapped every
// round, and the figures are medians; a ratio is the median of the rounds'
// ratios, so both sides of one ratio met the same noise.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { startService, uniqueDatabase, mongoUrl, connect } = require('@orders/testkit');

const root = path.resolve(__dirname, '..');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);

function once(url, method) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, agent }, (res) => {
      // Only short answers are kept (the created order's number); listings are dropped.
      let body = '';
      res.on('data', (chunk) => {
        if (body.length < 100) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** load sends total requests, concurrency at a time, and summarises them. */
async function load(url, method, { concurrency, total }) {
  const latencies = [];
  const created = [];
  let errors = 0;
  let sent = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (sent < total) {
      sent++;
      const { status, body, ms } = await once(url, method);
      if (status !== 200) errors++;
      const number = body.match(/^Order number (\d+) created successfully\.$/);
      if (status === 200 && number) created.push(Number(number[1]));
      latencies.push(ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: total / seconds, p50: pct(50), p99: pct(99), errors, created };
}

/** unsound counts the created numbers that were given twice or are not stored. */
async function unsound(db, created) {
  const distinct = new Set(created);
  const stored = await db.orders.countDocuments({ _id: { $in: [...distinct] } });
  return created.length - distinct.size + (distinct.size - stored);
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
const row = (cells) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 32 : 12)).join(''));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const BASELINES = 'POST: the prototype\'s service1 (bench/prototype-create.js: one find-and-modify and one insert per order, ' +
  'default write concern, no logs or metrics; its errors are duplicate numbers, devdb\'s find-and-modify not being atomic); ' +
  'GET: the prototype\'s service2 (bench/prototype-list.js: toArray, then one JSON answer).';

/** cases are the comparisons at one database size: our service and its baseline. */
function cases(size) {
  return [
    { name: 'POST /orders', method: 'POST', concurrency: 16, total: 2000,
      ours: { dir: path.join(root, 'service1'), entry: 'index.js' }, base: { dir: __dirname, entry: 'prototype-create.js' } },
    { name: 'GET /orders', method: 'GET', concurrency: 8, total: size >= 10000 ? 100 : 400,
      ours: { dir: path.join(root, 'service2'), entry: 'index.js' }, base: { dir: __dirname, entry: 'prototype-list.js' } },
  ];
}

/** measure runs one side of a case on a fresh database holding size orders. */
async function measure(c, side, size) {
  const database = uniqueDatabase('bench');
  const db = await connect(database);
  await preload(db, size);
  const svc = await startService(side.dir, { MONGODB_URL: mongoUrl(), MONGODB_DB: database, LOG_LEVEL: 'info' }, { entry: side.entry, quiet: true });
  try {
    await once(`${svc.base}/orders`, 'GET'); // connects the pool (404 on service1)
    const r = await load(`${svc.base}/orders`, c.method, c);
    r.unsound = await unsound(db, r.created);
    return r;
  } finally {
    await svc.stop('SIGKILL');
    await db.db.dropDatabase();
    await db.close();
  }
}

/** compare alternates ours and the baseline for ROUNDS rounds and returns medians. */
async function compare(c, size) {
  const ours = [];
  const base = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['base', 'ours'] : ['ours', 'base'];
    for (const side of order) (side === 'ours' ? ours : base).push(await measure(c, c[side], size));
  }
  const pick = (runs) => ({
    rps: median(runs.map((r) => r.rps)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    unsound: runs.reduce((n, r) => n + r.unsound, 0),
  });
  return {
    ours: pick(ours),
    base: pick(base),
    rpsRatio: median(ours.map((r, i) => r.rps / base[i].rps)),
    p99Ratio: median(ours.map((r, i) => base[i].p99 / r.p99)),
  };
}

async function main() {
  mongoUrl();
  console.log(`node ${process.version}, ${require('node:os').cpus().length} cores; database: devdb (FerretDB on SQLite) unless MONGODB_URL says otherwise\n`);

  console.log(`Throughput and p99 against the prototype-equivalent baselines (keep-alive; median of ${ROUNDS} rounds)`);
  console.log('  POST: 2000 requests, 16 concurrent; GET: 400 requests (100 at 10,000 orders), 8 concurrent');
  console.log('  ratios: throughput ours/baseline, p99 baseline/ours: at or above 1.0, ours is at least as fast\n');
  row(['case', 'req/s', 'p99 ms', 'errors', 'base req/s', 'base p99', 'base errors', 'req/s ratio', 'p99 ratio']);
  const unsoundNumbers = { ours: 0, base: 0 };
  for (const size of [1000, 10000]) {
    for (const c of cases(size)) {
      const r = await compare(c, size);
      row([`${c.name} at ${size} orders`, r.ours.rps.toFixed(0), r.ours.p99.toFixed(1), r.ours.errors,
        r.base.rps.toFixed(0), r.base.p99.toFixed(1), r.base.errors, r.rpsRatio.toFixed(2), r.p99Ratio.toFixed(2)]);
      unsoundNumbers.ours += r.ours.unsound;
      unsoundNumbers.base += r.base.unsound;
    }
  }
  console.log(`\nerrors: answers other than 200, summed over the rounds. Numbers acknowledged twice or not stored: ours ${unsoundNumbers.ours}, baseline ${unsoundNumbers.base}.`);
  console.log(`Baselines: ${BASELINES}`);

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
