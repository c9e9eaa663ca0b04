'use strict';

module.exports = {
  ...require('./config'),
  ...require('./log'),
  ...require('./metrics'),
  ...require('./db'),
  ...require('./http'),
  ...require('./service'),
};
