'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { createLogger } = require('..');

function capture(level) {
  const lines = [];
  const logger = createLogger({ service: 'svc', level, write: (line) => lines.push(line) });
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l)) };
}

test('one JSON object per line with time, level, service, message and fields', () => {
  const { logger, lines, entries } = capture('info');
  logger.info('request', { reqId: 'r1', status: 200 });
  assert.equal(lines.length, 1);
  assert.ok(lines[0].endsWith('\n'));
  assert.equal(lines[0].trimEnd().includes('\n'), false);
  const [entry] = entries();
  assert.equal(entry.level, 'info');
  assert.equal(entry.service, 'svc');
  assert.equal(entry.msg, 'request');
  assert.equal(entry.reqId, 'r1');
  assert.ok(!Number.isNaN(Date.parse(entry.time)));
});

test('messages below the level are dropped', () => {
  const { logger, entries } = capture('warn');
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e');
  assert.deepEqual(entries().map((e) => e.msg), ['w', 'e']);
});

test('errors keep their name, message and code', () => {
  const { logger, entries } = capture('info');
  const err = Object.assign(new Error('socket closed'), { code: 'EPIPE' });
  logger.error('failed', { err });
  assert.deepEqual(entries()[0].err, { name: 'Error', message: 'socket closed', code: 'EPIPE' });
});
