'use strict';

// The public contract across both services, as the gateway serves it:
// create with service1, delete with service1, list with service2.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startService, serviceDir, uniqueDatabase, mongoUrl, connect } = require('@orders/testkit');

test('create, delete and list answer exactly as the contract says', async (t) => {
  const database = uniqueDatabase('contract');
  const env = { MONGODB_URL: mongoUrl(), MONGODB_DB: database };
  const writer = await startService(path.resolve(serviceDir(__filename), '..', 'service1'), env);
  const reader = await startService(serviceDir(__filename), env);
  const db = await connect(database);
  t.after(async () => {
    await Promise.all([writer.stop(), reader.stop()]);
    await db.db.dropDatabase();
    await db.close();
  });

  for (let n = 1; n <= 19; n++) {
    const res = await writer.request('POST', '/orders', { body: '{}' });
    assert.equal(res.text, `Order number ${n} created successfully.`);
  }
  for (const n of [2, 4, 5]) {
    const res = await writer.request('DELETE', `/orders/${n}`);
    assert.equal(res.text, `Order number ${n} deleted successfully.`);
  }
  const list = await reader.request('GET', '/orders');
  assert.equal(list.status, 200);
  assert.equal(
    list.text,
    '[{"_id":1},{"_id":3},{"_id":6},{"_id":7},{"_id":8},{"_id":9},{"_id":10},{"_id":11},{"_id":12},{"_id":13},{"_id":14},{"_id":15},{"_id":16},{"_id":17},{"_id":18},{"_id":19}]',
  );
  // A deleted number is never given out again.
  assert.equal((await writer.request('DELETE', '/orders/19')).text, 'Order number 19 deleted successfully.');
  assert.equal((await writer.request('POST', '/orders')).text, 'Order number 20 created successfully.');
});
