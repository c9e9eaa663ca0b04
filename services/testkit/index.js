'use strict';

// Test helpers shared by the services' suites. Everything here is real: the
// service runs as its own process on a real port, the database is whatever
// MONGODB_URL points at, and the proxy is a real TCP relay that a test can cut.

const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { once } = require('node:events');
const { MongoClient } = require('mongodb');

function mongoUrl() {
  const url = process.env.MONGODB_URL;
  if (!url) {
    throw new Error('MONGODB_URL is not set: the suites need a real MongoDB-wire server (make test starts one)');
  }
  return url;
}

/** uniqueDatabase names a fresh database so suites never see each other's orders. */
function uniqueDatabase(prefix = 'test') {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * startService runs `node <entry>` (index.js by default) in dir with env, on
 * a free port, and resolves once it logs that it listens. The process's JSON
 * log lines are collected in `logs`, unless quiet, when they are dropped once
 * it listens (benchmarks: parsing them would compete for the CPU).
 */
async function startService(dir, env = {}, { entry = 'index.js', quiet = false } = {}) {
  const child = spawn(process.execPath, [entry], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const stderr = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  let listening = false;
  child.stdout.on('data', (text) => {
    if (quiet && listening) return;
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ unparsed: line });
      }
      child.emit('log', logs.at(-1));
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => stderr.push(text));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${dir} did not listen within 15s; stderr: ${stderr.join('')}`)), 15000);
    child.on('log', (entry) => {
      if (entry.msg === 'listening') {
        listening = true;
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${dir} exited with ${code} before listening; stderr: ${stderr.join('')}`));
    });
  });

  const base = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    base,
    logs,
    stderr,
    exited,
    /** request sends one HTTP request and returns status, headers and body text. */
    async request(method, urlPath, { body, headers } = {}) {
      const res = await fetch(base + urlPath, { method, body, headers });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
    /** waitForLog resolves with the first log entry (past or future) that matches. */
    waitForLog(predicate, timeoutMs = 10000) {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs}ms`)), timeoutMs);
        const onLog = (entry) => {
          if (!predicate(entry)) return;
          clearTimeout(timer);
          child.off('log', onLog);
          resolve(entry);
        };
        child.on('log', onLog);
      });
    },
    /** stop sends signal and resolves with how the process ended. */
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** serviceDir is the folder of a service, from a test file inside it. */
function serviceDir(testFile) {
  return path.resolve(path.dirname(testFile), '..');
}

/**
 * startProxy relays TCP from a local port to the host and port of target (a
 * mongodb:// URL). cut() drops every connection and refuses new ones, as a
 * database outage does; restore() listens again on the same port. hold()
 * keeps connections open but lets no byte through until release(), as a
 * stalled database does. sent() returns every byte clients have sent so far,
 * to check what went over the wire. url is target with the proxy in place of
 * the server.
 */
async function startProxy(target) {
  const parsed = new URL(target);
  const upstream = { host: parsed.hostname, port: Number(parsed.port || 27017) };
  const sockets = new Set();
  const held = [];
  const upstreamBytes = [];
  let holding = false;
  let server;
  let port = 0;

  const forward = (from, to) => {
    from.on('data', (chunk) => {
      if (holding) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('end', () => to.end());
  };
  const listen = async () => {
    server = net.createServer((client) => {
      const remote = net.connect(upstream);
      for (const s of [client, remote]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          remote.destroy();
        });
      }
      client.on('data', (chunk) => upstreamBytes.push(chunk));
      forward(client, remote);
      forward(remote, client);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = server.address().port;
  };
  await listen();

  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      held.length = 0;
      await closed;
    },
    restore: listen,
    hold() {
      holding = true;
    },
    sent: () => Buffer.concat(upstreamBytes),
    release() {
      holding = false;
      for (const send of held.splice(0)) send();
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** waitFor polls check until it returns a truthy value, or fails after timeoutMs naming what. */
async function waitFor(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs}ms${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * metricValue finds the sample of name whose labels include labels in a
 * Prometheus text exposition, whatever their order; undefined when absent.
 */
function metricValue(exposition, name, labels = {}) {
  for (const line of exposition.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === String(v))) return Number(m[3]);
  }
  return undefined;
}

/** connect opens a driver connection to the test database for checking what a request changed. */
async function connect(database) {
  const client = new MongoClient(mongoUrl(), { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(database);
  return {
    db,
    orders: db.collection('orders'),
    counters: db.collection('counters'),
    /** snapshot returns every order id and the counter, to compare before and after a request. */
    async snapshot() {
      const ids = (await db.collection('orders').find({}).sort({ _id: 1 }).toArray()).map((o) => o._id);
      const counter = await db.collection('counters').findOne({ _id: 'orderSeq' });
      return { ids, seq: counter?.seq ?? null };
    },
    close: () => client.close(),
  };
}

module.exports = { mongoUrl, uniqueDatabase, startService, serviceDir, startProxy, connect, waitFor, metricValue };
