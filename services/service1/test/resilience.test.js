'use strict';

// service1 when the database goes away and comes back, and when it is told
// to stop: the database is reached through a real TCP proxy the test cuts.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startService, serviceDir, uniqueDatabase, mongoUrl, connect, startProxy, waitFor, metricValue } = require('@orders/testkit');

const dir = serviceDir(__filename);
const fast = { DB_TIMEOUT_MS: '500', SHUTDOWN_TIMEOUT_MS: '5000' };

async function withService(t, proxy, env = {}) {
  const database = uniqueDatabase('service1');
  const db = await connect(database);
  const svc = await startService(dir, { MONGODB_URL: proxy.url, MONGODB_DB: database, ...fast, ...env });
  t.after(async () => {
    await svc.stop('SIGKILL');
    await proxy.close();
    await db.db.dropDatabase();
    await db.close();
  });
  return { svc, db };
}

const ready = (svc) => svc.request('GET', '/readyz').then((r) => r.status === 200);

test('starts while the database is down, is not ready, answers 503, and recovers by itself', async (t) => {
  const proxy = await startProxy(mongoUrl());
  await proxy.cut();
  const { svc, db } = await withService(t, proxy);

  assert.equal((await svc.request('GET', '/livez')).status, 200, 'alive without a database');
  const notReady = await svc.request('GET', '/readyz');
  assert.deepEqual([notReady.status, notReady.text], [503, 'database unreachable']);
  const refused = await svc.request('POST', '/orders');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.match(refused.text, /database cannot be reached/);
  await svc.waitForLog((e) => e.msg === 'database unreachable, retrying' && e.attempt >= 2);

  await proxy.restore();
  await waitFor('ready after the database returns', () => ready(svc));
  await svc.waitForLog((e) => e.msg === 'database connected');
  const created = await svc.request('POST', '/orders');
  assert.equal(created.status, 200);
  assert.equal(created.text, 'Order number 1 created successfully.');
  assert.deepEqual((await db.snapshot()).ids, [1]);
});

test('an outage while serving: 503s during it, recovery after it, no acknowledged order lost', async (t) => {
  const proxy = await startProxy(mongoUrl());
  const { svc, db } = await withService(t, proxy);
  await waitFor('ready', () => ready(svc));

  const acknowledged = [];
  const post = async () => {
    const res = await svc.request('POST', '/orders');
    if (res.status === 200) acknowledged.push(Number(res.text.match(/\d+/)[0]));
    return res.status;
  };
  for (let i = 0; i < 5; i++) assert.equal(await post(), 200);

  await proxy.cut();
  const during = await Promise.all(Array.from({ length: 5 }, post));
  assert.deepEqual(during, [503, 503, 503, 503, 503]);
  await waitFor('not ready during the outage', async () => !(await ready(svc)));

  await proxy.restore();
  await waitFor('ready again', () => ready(svc));
  for (let i = 0; i < 5; i++) assert.equal(await post(), 200);

  const { ids } = await db.snapshot();
  assert.deepEqual(ids, [...acknowledged].sort((a, b) => a - b), 'every acknowledged order is stored, nothing else');
  assert.equal(new Set(acknowledged).size, acknowledged.length, 'no number given twice');
  const metrics = (await svc.request('GET', '/metrics')).text;
  assert.ok(metricValue(metrics, 'db_errors_total', { operation: 'createOrder', kind: 'unavailable' }) >= 5, 'outage counted as database errors');
  assert.ok(metricValue(metrics, 'http_requests_total', { route: '/orders', method: 'POST', status: '503' }) >= 5);
  assert.equal((await svc.request('GET', '/livez')).status, 200, 'never restarted');
});

test('orders are written with majority write concern', async (t) => {
  const proxy = await startProxy(mongoUrl());
  const { svc, db } = await withService(t, proxy);
  await waitFor('ready', () => ready(svc));
  const before = proxy.sent().length;
  assert.equal((await svc.request('POST', '/orders')).status, 200);
  assert.equal((await svc.request('DELETE', '/orders/1')).status, 200);
  const wire = proxy.sent().subarray(before);
  // BSON on the wire: the commands and their writeConcern document {w: "majority"}.
  for (const command of ['findAndModify', 'insert', 'delete']) {
    assert.ok(wire.includes(Buffer.from(`${command}\0`)), `${command} was sent`);
  }
  const majority = Buffer.concat([Buffer.from([0x02]), Buffer.from('w\0'), Buffer.from([9, 0, 0, 0]), Buffer.from('majority\0')]);
  let count = 0;
  for (let at = wire.indexOf(majority); at >= 0; at = wire.indexOf(majority, at + 1)) count++;
  assert.equal(count, 3, 'each of the three writes carries w: "majority"');
  assert.deepEqual((await db.snapshot()).ids, []);
});

test('SIGTERM finishes the request in flight, refuses new ones, closes the pool and exits 0', async (t) => {
  const proxy = await startProxy(mongoUrl());
  const { svc, db } = await withService(t, proxy, { DB_TIMEOUT_MS: '5000' });
  await waitFor('ready', () => ready(svc));

  proxy.hold(); // the next POST waits on the database
  const inFlight = svc.request('POST', '/orders');
  await waitFor('the POST reached the database', () => svc.logs.length > 0 && true, 1000).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  svc.child.kill('SIGTERM');
  await svc.waitForLog((e) => e.msg === 'shutting down' && e.reason === 'SIGTERM');

  await assert.rejects(fetch(`${svc.base}/livez`), 'new connections are refused once draining');
  proxy.release();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.text, 'Order number 1 created successfully.');
  assert.deepEqual(await svc.exited, { code: 0, signal: null });
  assert.ok(svc.logs.some((e) => e.msg === 'stopped'));
  assert.deepEqual((await db.snapshot()).ids, [1], 'the acknowledged order is stored');
});

test('a request that outlives the grace period is cut and the exit says so', async (t) => {
  const proxy = await startProxy(mongoUrl());
  const { svc } = await withService(t, proxy, { DB_TIMEOUT_MS: '30000', SHUTDOWN_TIMEOUT_MS: '500' });
  await waitFor('ready', () => ready(svc));
  proxy.hold();
  const stuck = svc.request('POST', '/orders').catch((err) => err);
  await new Promise((resolve) => setTimeout(resolve, 200));
  svc.child.kill('SIGTERM');
  assert.deepEqual(await svc.exited, { code: 1, signal: null });
  assert.ok(svc.logs.some((e) => e.level === 'error' && /grace period/.test(e.msg)));
  assert.ok((await stuck) instanceof Error, 'the stuck client sees its connection closed, not a success');
});

// Uniqueness across replicas rests on the order's unique _id, whatever the
// server. MongoDB's find-and-modify is atomic, so there every POST succeeds;
// FerretDB's is not, so two replicas may draw the same number, and the loser
// retries or fails with a 5xx — but never acknowledges a number twice.
test('two replicas on one database never acknowledge the same number', async (t) => {
  const database = uniqueDatabase('service1');
  const db = await connect(database);
  const env = { MONGODB_URL: mongoUrl(), MONGODB_DB: database };
  const replicas = await Promise.all([startService(dir, env), startService(dir, env)]);
  t.after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db.db.dropDatabase();
    await db.close();
  });
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) => replicas[i % 2].request('POST', '/orders')),
  );
  const failed = answers.filter((r) => r.status !== 200);
  assert.ok(failed.every((r) => r.status >= 500), `failures are server errors, not wrong answers: ${JSON.stringify(failed)}`);
  const numbers = answers.filter((r) => r.status === 200).map((r) => Number(r.text.match(/^Order number (\d+) created successfully\.$/)[1]));
  assert.ok(numbers.length > 0);
  assert.equal(new Set(numbers).size, numbers.length, 'no number is acknowledged twice');
  const { ids } = await db.snapshot();
  assert.deepEqual(ids, [...numbers].sort((a, b) => a - b), 'every acknowledged order is stored, and nothing else');
});

test('an invalid configuration stops the start with a message naming the variable', async () => {
  const cases = [
    [{ MONGODB_URL: '' }, /MONGODB_URL is not set/],
    [{ MONGODB_URL: 'http://db:27017' }, /MONGODB_URL must start with mongodb:\/\//],
    [{ MONGODB_URL: mongoUrl(), PORT: 'eighty' }, /PORT must be an integer from 0 to 65535, got \\"eighty\\"/],
    [{ MONGODB_URL: mongoUrl(), LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of/],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(startService(dir, env), (err) => {
      assert.match(err.message, /exited with 1 before listening/);
      assert.match(err.message, message);
      return true;
    });
  }
});
