'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { loadConfig, ConfigError } = require('..');

const defaults = { service: 'service1', defaultPort: 3000 };
const url = 'mongodb://app:s3cret@db:27017/?authSource=DevOpsAssignment';

test('defaults match the prototype', () => {
  const config = loadConfig({ MONGODB_URL: url }, defaults);
  assert.equal(config.port, 3000);
  assert.equal(config.database, 'DevOpsAssignment');
  assert.equal(config.logLevel, 'info');
  assert.equal(config.mongoUrl, url);
});

test('settings are read and checked', () => {
  const config = loadConfig(
    { MONGODB_URL: 'mongodb+srv://cluster.example', PORT: '8080', MONGODB_DB: 'tenant_acme', LOG_LEVEL: 'debug', SHUTDOWN_TIMEOUT_MS: '2500', BODY_LIMIT_BYTES: '100', DB_TIMEOUT_MS: '750' },
    defaults,
  );
  assert.deepEqual(
    [config.port, config.database, config.logLevel, config.shutdownTimeoutMs, config.bodyLimitBytes, config.dbTimeoutMs],
    [8080, 'tenant_acme', 'debug', 2500, 100, 750],
  );
});

test('bad settings are rejected with the variable named, and never echo the URL', () => {
  const cases = [
    [{}, /^MONGODB_URL is not set/],
    [{ MONGODB_URL: 'postgres://app:s3cret@db' }, /^MONGODB_URL must start with mongodb:\/\/ or mongodb\+srv:\/\//],
    [{ MONGODB_URL: 'mongodb://' }, /^MONGODB_URL must start/],
    [{ MONGODB_URL: url, PORT: '-1' }, /^PORT must be an integer from 0 to 65535, got "-1"$/],
    [{ MONGODB_URL: url, PORT: '65536' }, /^PORT must be an integer/],
    [{ MONGODB_URL: url, PORT: '3000.5' }, /^PORT must be an integer/],
    [{ MONGODB_URL: url, MONGODB_DB: 'a/b' }, /^MONGODB_DB must be/],
    [{ MONGODB_URL: url, LOG_LEVEL: 'trace' }, /^LOG_LEVEL must be one of debug, info, warn, error, got "trace"$/],
    [{ MONGODB_URL: url, SHUTDOWN_TIMEOUT_MS: '10' }, /^SHUTDOWN_TIMEOUT_MS must be an integer from 100 to 300000/],
    [{ MONGODB_URL: url, BODY_LIMIT_BYTES: '1x' }, /^BODY_LIMIT_BYTES must be an integer/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env, defaults), (err) => {
      assert.ok(err instanceof ConfigError, `${JSON.stringify(env)}: ConfigError`);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /s3cret/, 'the password never appears');
      return true;
    });
  }
});
