// The public contract, run by `helm test` through the gateway: create an order,
// see it listed, delete it, see it gone. Exit status 0 only when every answer
// matches byte for byte. Runs on the service image's Node; no dependencies.
import http from 'node:http';
import https from 'node:https';

const base = new URL(process.env.GATEWAY_URL);
const hostHeader = process.env.GATEWAY_HOST || '';

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const lib = base.protocol === 'https:' ? https : http;
    const headers = {};
    if (hostHeader) headers.host = hostHeader;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = lib.request(new URL(path, base), { method, headers, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function check(cond, what, res) {
  if (!cond) {
    console.error(`FAIL ${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    process.exit(1);
  }
  console.log(`ok   ${what}`);
}

function ids(res) {
  let list;
  try {
    list = JSON.parse(res.body);
  } catch {
    return null;
  }
  if (!Array.isArray(list)) return null;
  for (const o of list) {
    if (o === null || typeof o !== 'object' || Object.keys(o).join() !== '_id' || !Number.isInteger(o._id)) return null;
  }
  return list.map((o) => o._id);
}

const created = await call('POST', '/service1', '{}');
const m = /^Order number (\d+) created successfully\.$/.exec(created.body);
check(created.status >= 200 && created.status < 300 && m, 'POST /service1 -> "Order number N created successfully."', created);
const id = Number(m[1]);

const listed = await call('GET', '/service2');
const before = ids(listed);
check(listed.status === 200 && before && before.includes(id), `GET /service2 -> [{"_id":…}] including ${id}`, listed);

const deleted = await call('DELETE', `/service1/${id}`);
check(deleted.status >= 200 && deleted.status < 300 && deleted.body === `Order number ${id} deleted successfully.`,
  `DELETE /service1/${id} -> "Order number ${id} deleted successfully."`, deleted);

const after = await call('GET', '/service2');
const remaining = ids(after);
check(after.status === 200 && remaining && !remaining.includes(id), `GET /service2 no longer lists ${id}`, after);
console.log('contract holds');
