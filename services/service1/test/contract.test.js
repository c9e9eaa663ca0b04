'use strict';

// service1 against a real MongoDB-wire server: the contract byte for byte,
// every bad input (and that it changed nothing), concurrency, health, metrics.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startService, serviceDir, uniqueDatabase, mongoUrl, connect, metricValue } = require('@orders/testkit');

const database = uniqueDatabase('service1');
let svc;
let db;

before(async () => {
  db = await connect(database);
  svc = await startService(serviceDir(__filename), { MONGODB_URL: mongoUrl(), MONGODB_DB: database, BODY_LIMIT_BYTES: '1024' });
});
after(async () => {
  await svc?.stop();
  await db?.db.dropDatabase();
  await db?.close();
});

test('POST /orders creates consecutive orders with the exact answer text', async () => {
  const { seq: before } = await db.snapshot();
  const first = (before ?? 0) + 1;
  for (const n of [first, first + 1, first + 2]) {
    // curl -XPOST … -d '{}' sends a form-encoded body: it must be accepted.
    const res = await svc.request('POST', '/orders', { body: '{}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 200);
    assert.equal(res.text, `Order number ${n} created successfully.`);
  }
  const after = await db.snapshot();
  assert.deepEqual(after.ids.slice(-3), [first, first + 1, first + 2]);
  assert.equal(after.seq, first + 2);
});

test('POST /orders with a JSON body and with no body both create an order', async () => {
  for (const request of [{ body: '{}', headers: { 'content-type': 'application/json' } }, {}]) {
    const res = await svc.request('POST', '/orders', request);
    assert.equal(res.status, 200);
    assert.match(res.text, /^Order number \d+ created successfully\.$/);
  }
});

test('DELETE /orders/:id deletes, and answers the same when the order is already gone', async () => {
  const created = await svc.request('POST', '/orders');
  const id = Number(created.text.match(/^Order number (\d+) created/)[1]);
  for (let i = 0; i < 2; i++) {
    const res = await svc.request('DELETE', `/orders/${id}`);
    assert.equal(res.status, 200);
    assert.equal(res.text, `Order number ${id} deleted successfully.`);
    assert.equal(await db.orders.countDocuments({ _id: id }), 0);
  }
});

test('bad input gets its 4xx with a one-line reason and changes nothing', async () => {
  await svc.request('POST', '/orders'); // at least one order exists to be touched by mistake
  const huge = 'x'.repeat(2048);
  const cases = [
    { name: 'non-integer id', method: 'DELETE', path: '/orders/abc', status: 400, reason: /positive whole number, got "abc"/ },
    { name: 'negative id', method: 'DELETE', path: '/orders/-1', status: 400, reason: /positive whole number/ },
    { name: 'zero id', method: 'DELETE', path: '/orders/0', status: 400, reason: /greater than zero/ },
    { name: 'fractional id', method: 'DELETE', path: '/orders/1.5', status: 400, reason: /positive whole number/ },
    { name: 'exponent id', method: 'DELETE', path: '/orders/1e3', status: 400, reason: /positive whole number/ },
    { name: 'leading zeros', method: 'DELETE', path: '/orders/01', status: 400, reason: /leading zeros/ },
    { name: 'absurdly large id', method: 'DELETE', path: '/orders/99999999999999999999', status: 400, reason: /too large/ },
    { name: 'id just past the safe range', method: 'DELETE', path: '/orders/9007199254740992', status: 400, reason: /too large/ },
    { name: 'encoded newline in id', method: 'DELETE', path: '/orders/1%0A2', status: 400, reason: /positive whole number, got "1\\n2"/ },
    { name: 'malformed JSON', method: 'POST', path: '/orders', body: '{"a":', headers: { 'content-type': 'application/json' }, status: 400, reason: /not valid JSON/ },
    { name: 'body over the limit', method: 'POST', path: '/orders', body: huge, status: 413, reason: /larger than the limit of 1024 bytes/ },
    { name: 'JSON body over the limit', method: 'POST', path: '/orders', body: JSON.stringify({ huge }), headers: { 'content-type': 'application/json' }, status: 413, reason: /limit/ },
    { name: 'unknown route', method: 'GET', path: '/nope', status: 404, reason: /^not found$/ },
    { name: 'unknown nested route', method: 'DELETE', path: '/orders/1/extra', status: 404, reason: /^not found$/ },
    { name: 'GET on the write service', method: 'GET', path: '/orders', status: 405, reason: /GET is not allowed here; allowed: POST, OPTIONS/, allow: 'POST, OPTIONS' },
    { name: 'PUT on an order', method: 'PUT', path: '/orders/1', status: 405, reason: /allowed: DELETE, OPTIONS/, allow: 'DELETE, OPTIONS' },
    { name: 'POST on an order', method: 'POST', path: '/orders/1', status: 405, reason: /not allowed/ },
    { name: 'DELETE on the collection', method: 'DELETE', path: '/orders', status: 405, reason: /not allowed/ },
    { name: 'undecodable path', method: 'DELETE', path: '/orders/%E0%A4%A', status: 400, reason: /./ },
  ];
  for (const c of cases) {
    const before = await db.snapshot();
    const res = await svc.request(c.method, c.path, { body: c.body, headers: c.headers });
    assert.equal(res.status, c.status, `${c.name}: status (body ${JSON.stringify(res.text)})`);
    assert.match(res.text, c.reason, c.name);
    assert.doesNotMatch(res.text, /\n/, `${c.name}: reason is one line`);
    if (c.allow) assert.equal(res.headers.get('allow'), c.allow, `${c.name}: Allow header`);
    assert.deepEqual(await db.snapshot(), before, `${c.name}: the database is unchanged`);
  }
  // The process is still serving after all of that.
  assert.equal((await svc.request('GET', '/livez')).status, 200);
});

test('N parallel POSTs get N distinct consecutive numbers, all stored', async () => {
  const n = 100;
  const { seq: before } = await db.snapshot();
  const answers = await Promise.all(Array.from({ length: n }, () => svc.request('POST', '/orders')));
  const numbers = answers.map((res) => {
    assert.equal(res.status, 200, res.text);
    return Number(res.text.match(/^Order number (\d+) created successfully\.$/)[1]);
  });
  const sorted = [...numbers].sort((a, b) => a - b);
  assert.equal(new Set(numbers).size, n, 'no number is given twice');
  assert.deepEqual(sorted, Array.from({ length: n }, (_, i) => before + 1 + i), 'numbers are consecutive');
  const stored = await db.orders.find({ _id: { $in: numbers } }).toArray();
  assert.equal(stored.length, n, 'every acknowledged order is stored');
});

test('parallel POSTs while the counter is behind the orders: new numbers past them, none given twice', async () => {
  // Orders above the counter (a counter restored from an older backup): the
  // creates that draw their numbers meet them, in the same insert batches as
  // creates that do not.
  const { seq: before } = await db.snapshot();
  const taken = [before + 2, before + 3, before + 5, before + 8];
  await db.orders.insertMany(taken.map((_id) => ({ _id })));
  const n = 20;
  const answers = await Promise.all(Array.from({ length: n }, () => svc.request('POST', '/orders')));
  const numbers = answers.map((res) => {
    assert.equal(res.status, 200, res.text);
    return Number(res.text.match(/^Order number (\d+) created successfully\.$/)[1]);
  });
  assert.equal(new Set(numbers).size, n, 'no number is given twice');
  assert.deepEqual(numbers.filter((x) => taken.includes(x)), [], 'no existing order is answered as new');
  const stored = await db.orders.find({ _id: { $in: numbers } }).toArray();
  assert.equal(stored.length, n, 'every acknowledged order is stored');
});

test('health, readiness, legacy health and metrics', async () => {
  assert.deepEqual(await svc.request('GET', '/livez').then((r) => [r.status, r.text]), [200, 'ok']);
  assert.deepEqual(await svc.request('GET', '/readyz').then((r) => [r.status, r.text]), [200, 'ok']);
  assert.deepEqual(await svc.request('GET', '/health').then((r) => [r.status, r.text]), [200, '"healthy"']);
  const metrics = await svc.request('GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const sample = (name, labels) => metricValue(metrics.text, name, { service: 'service1', ...labels });
  assert.ok(sample('http_requests_total', { route: '/orders', method: 'POST', status: '200' }) >= 100, 'POSTs are counted by route');
  assert.ok(sample('http_requests_total', { route: '/orders/:id', method: 'DELETE', status: '400' }) >= 8, 'bad ids are counted');
  assert.ok(sample('http_request_duration_seconds_count', { route: '/orders', method: 'POST', status: '200' }) >= 100, 'latency is observed');
  assert.notEqual(sample('http_request_duration_seconds_bucket', { route: '/orders', method: 'POST', status: '200', le: '0.1' }), undefined);
  assert.equal(sample('db_up'), 1);
  assert.equal(sample('db_errors_total', { operation: 'createOrder' }), undefined, 'no database error so far');
});

test('every request is logged as one JSON line with its request id', async () => {
  const res = await svc.request('POST', '/orders', { headers: { 'x-request-id': 'trace-abc.123' } });
  assert.equal(res.headers.get('x-request-id'), 'trace-abc.123');
  const line = await svc.waitForLog((e) => e.msg === 'request' && e.reqId === 'trace-abc.123');
  assert.equal(line.level, 'info');
  assert.equal(line.service, 'service1');
  assert.equal(line.route, '/orders');
  assert.equal(line.status, 200);
  assert.equal(typeof line.durationMs, 'number');

  // An id a client cannot be trusted with is replaced by a fresh one.
  const odd = await svc.request('GET', '/livez', { headers: { 'x-request-id': 'no spaces allowed' } });
  assert.match(odd.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  assert.ok(!svc.logs.some((e) => e.unparsed), 'every stdout line is JSON');
});

test('CORS preflight is answered as the prototype did', async () => {
  const res = await svc.request('OPTIONS', '/orders');
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
});
