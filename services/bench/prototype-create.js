'use strict';

// The prototype's service1 (packages/service1/index.js of the development
// team's repository), kept only as the benchmark's baseline, on this
// workspace's express and driver. Changed only where it must be to run here:
// findOneAndUpdate returns the document itself since driver 6 and takes
// returnDocument instead of returnOriginal (as given, the first POST crashes);
// cors(), not a dependency here, becomes the one header it sets by default;
// body-parser's json() is express.json(). Its numbering is as it was: on devdb,
// whose find-and-modify is a read then a write (FerretDB v1.24.2,
// internal/handler/msg_findandmodify.go), concurrent creates draw the same
// number and all but one fail on the insert.
const express = require('express');
const { MongoClient } = require('mongodb');

const client = new MongoClient(process.env.MONGODB_URL);
const db = client.db(process.env.MONGODB_DB || 'DevOpsAssignment');
const counterCollection = db.collection('counters');
const orderCollection = db.collection('orders');
const app = express();
app.use((req, res, next) => {
  res.set('Access-Control-Allow-Origin', '*');
  next();
});
app.use(express.json());
app.delete('/orders/:id', async (req, res) => {
  await orderCollection.deleteOne({ _id: Number(req.params.id) });
  res.send(`Order number ${req.params.id} deleted successfully.`);
});
app.post('/orders', async (req, res) => {
  const orderSeq = await counterCollection.findOneAndUpdate(
    { _id: 'orderSeq' },
    { $inc: { seq: 1 } },
    { upsert: true, returnDocument: 'after' },
  );
  await orderCollection.insertOne({ _id: orderSeq.seq });
  res.send(`Order number ${orderSeq.seq} created successfully.`);
});
const server = app.listen(Number(process.env.PORT || 0), () => {
  process.stdout.write(JSON.stringify({ msg: 'listening', port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => client.close().then(() => process.exit(0))));
