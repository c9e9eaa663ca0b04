'use strict';

const { LOG_LEVELS } = require('./config');

// One JSON object per line on stdout: what log shippers (Fluent Bit,
// CloudWatch) parse without configuration.
function createLogger({ service, level = 'info', write = (line) => process.stdout.write(line) }) {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (lvl) => (msg, fields = {}) => {
    if (LOG_LEVELS.indexOf(lvl) < threshold) return;
    const entry = { time: new Date().toISOString(), level: lvl, service, msg, ...fields };
    if (fields.err instanceof Error) {
      entry.err = { name: fields.err.name, message: fields.err.message, code: fields.err.code };
    }
    write(JSON.stringify(entry) + '\n');
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

module.exports = { createLogger };
