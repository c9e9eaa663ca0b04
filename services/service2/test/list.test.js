'use strict';

// service2 against a real MongoDB-wire server: the listing byte for byte,
// order, size, methods, outages and shutdown.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { startService, serviceDir, uniqueDatabase, mongoUrl, connect, startProxy, waitFor, metricValue } = require('@orders/testkit');

const dir = serviceDir(__filename);
const database = uniqueDatabase('service2');
let svc;
let db;

before(async () => {
  db = await connect(database);
  svc = await startService(dir, { MONGODB_URL: mongoUrl(), MONGODB_DB: database });
});
after(async () => {
  await svc?.stop();
  await db?.db.dropDatabase();
  await db?.close();
});

test('GET /orders on an empty database answers []', async () => {
  const res = await svc.request('GET', '/orders');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(res.text, '[]');
});

test('GET /orders lists every order in number order, byte for byte', async () => {
  await db.orders.insertMany([{ _id: 3 }, { _id: 1 }, { _id: 19 }, { _id: 6 }]);
  const res = await svc.request('GET', '/orders');
  assert.equal(res.status, 200);
  assert.equal(res.text, '[{"_id":1},{"_id":3},{"_id":6},{"_id":19}]');
  assert.equal((await svc.request('HEAD', '/orders')).status, 200);
});

test('a listing larger than one batch and one flush is complete, ordered JSON', async () => {
  await db.orders.deleteMany({});
  const n = 5000;
  const ids = Array.from({ length: n }, (_, i) => n - i); // inserted in reverse
  for (let i = 0; i < n; i += 1000) await db.orders.insertMany(ids.slice(i, i + 1000).map((_id) => ({ _id })));
  const res = await svc.request('GET', '/orders');
  assert.equal(res.status, 200);
  const listed = JSON.parse(res.text);
  assert.equal(listed.length, n);
  assert.deepEqual(listed.map((o) => o._id), Array.from({ length: n }, (_, i) => i + 1));
  assert.equal(res.text, JSON.stringify(listed), 'no whitespace, same bytes as JSON.stringify');
});

test('wrong methods get 405, unknown routes 404, and nothing changes', async () => {
  const before = await db.snapshot();
  for (const [method, path, status] of [
    ['POST', '/orders', 405],
    ['DELETE', '/orders', 405],
    ['PUT', '/orders', 405],
    ['GET', '/orders/1', 404],
    ['DELETE', '/orders/1', 404],
    ['GET', '/service2', 404],
  ]) {
    const res = await svc.request(method, path, { body: method === 'GET' ? undefined : '{}' });
    assert.equal(res.status, status, `${method} ${path}`);
    if (status === 405) assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
  }
  assert.deepEqual(await db.snapshot(), before);
});

test('health and metrics', async () => {
  assert.equal((await svc.request('GET', '/livez')).status, 200);
  assert.equal((await svc.request('GET', '/readyz')).status, 200);
  const metrics = (await svc.request('GET', '/metrics')).text;
  assert.ok(metricValue(metrics, 'http_requests_total', { service: 'service2', route: '/orders', method: 'GET', status: '200' }) >= 3);
  assert.ok(metricValue(metrics, 'http_request_duration_seconds_count', { service: 'service2', route: '/orders', method: 'GET', status: '200' }) >= 3);
});

test('a database outage gives 503 and the service recovers by itself', async (t) => {
  const proxy = await startProxy(mongoUrl());
  const viaProxy = await startService(dir, { MONGODB_URL: proxy.url, MONGODB_DB: database, DB_TIMEOUT_MS: '500' });
  t.after(async () => {
    await viaProxy.stop('SIGKILL');
    await proxy.close();
  });
  await waitFor('ready', async () => (await viaProxy.request('GET', '/readyz')).status === 200);
  const expected = (await viaProxy.request('GET', '/orders')).text;

  await proxy.cut();
  const down = await viaProxy.request('GET', '/orders');
  assert.equal(down.status, 503);
  assert.match(down.text, /database cannot be reached/);

  await proxy.restore();
  await waitFor('ready again', async () => (await viaProxy.request('GET', '/readyz')).status === 200);
  const res = await viaProxy.request('GET', '/orders');
  assert.deepEqual([res.status, res.text], [200, expected]);
});

test('SIGTERM exits 0 and logs that it stopped', async () => {
  const other = await startService(dir, { MONGODB_URL: mongoUrl(), MONGODB_DB: database });
  await waitFor('ready', async () => (await other.request('GET', '/readyz')).status === 200);
  assert.deepEqual(await other.stop('SIGTERM'), { code: 0, signal: null });
  assert.ok(other.logs.some((e) => e.msg === 'stopped'));
});

test('a connection that never sent a request does not hold up the shutdown', async () => {
  const other = await startService(dir, { MONGODB_URL: mongoUrl(), MONGODB_DB: database, SHUTDOWN_TIMEOUT_MS: '5000' });
  await waitFor('ready', async () => (await other.request('GET', '/readyz')).status === 200);
  // A proxy's spare connection: connected, silent.
  const silent = net.connect(other.port, '127.0.0.1');
  await new Promise((resolve, reject) => silent.once('connect', resolve).once('error', reject));
  const closed = new Promise((resolve) => silent.once('close', resolve));
  silent.on('error', () => {});
  assert.deepEqual(await other.stop('SIGTERM'), { code: 0, signal: null });
  await closed;
  assert.ok(other.logs.some((e) => e.msg === 'stopped'));
  assert.ok(!other.logs.some((e) => e.level === 'error'), JSON.stringify(other.logs.filter((e) => e.level === 'error')));
});

test('a database failure in the middle of a listing aborts it instead of ending it as valid JSON', async (t) => {
  const proxy = await startProxy(mongoUrl());
  const other = uniqueDatabase('service2');
  const data = await connect(other);
  const n = 30000;
  for (let i = 1; i <= n; i += 5000) {
    await data.orders.insertMany(Array.from({ length: 5000 }, (_, k) => ({ _id: i + k })));
  }
  const viaProxy = await startService(dir, { MONGODB_URL: proxy.url, MONGODB_DB: other, DB_TIMEOUT_MS: '500' });
  t.after(async () => {
    await viaProxy.stop('SIGKILL');
    await proxy.close();
    await data.db.dropDatabase();
    await data.close();
  });
  await waitFor('ready', async () => (await viaProxy.request('GET', '/readyz')).status === 200);

  const outcome = await new Promise((resolve) => {
    http.get(`${viaProxy.base}/orders`, (res) => {
      let body = '';
      let cut = false;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
        if (!cut) {
          cut = true;
          proxy.cut(); // the database goes away after the first bytes are out
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, complete: true, body }));
      res.on('error', () => resolve({ status: res.statusCode, complete: false, body }));
      res.on('aborted', () => resolve({ status: res.statusCode, complete: false, body }));
    }).on('error', () => resolve({ complete: false, body: '' }));
  });
  assert.equal(outcome.status, 200, 'the listing had started');
  assert.equal(outcome.complete, false, 'the client sees the response aborted');
  assert.throws(() => JSON.parse(outcome.body), 'what arrived is not mistakable for a complete list');
  await viaProxy.waitForLog((e) => e.msg === 'database unavailable');
  assert.equal((await viaProxy.request('GET', '/livez')).status, 200, 'the process survives');
});
