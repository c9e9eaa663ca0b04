'use strict';

// The prototype's GET /orders, kept only as the benchmark's baseline: it
// buffers the whole collection with toArray() before answering.
const express = require('express');
const { MongoClient } = require('mongodb');

const client = new MongoClient(process.env.MONGODB_URL);
const orders = client.db(process.env.MONGODB_DB || 'DevOpsAssignment').collection('orders');
const app = express();
app.get('/orders', async (req, res) => res.json(await orders.find({}).sort({ _id: 1 }).toArray()));
const server = app.listen(Number(process.env.PORT || 0), () => {
  process.stdout.write(JSON.stringify({ msg: 'listening', port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => client.close().then(() => process.exit(0))));
