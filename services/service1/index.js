'use strict';

// service1 writes orders: POST /orders creates the next one, DELETE
// /orders/:id removes one (idempotent: deleting a missing order succeeds).
const { runService } = require('@orders/runtime');
const { parseOrderId } = require('./order-id');
const { createOrder, Inserter } = require('./orders');
const { Sequence } = require('./sequence');

runService({
  service: 'service1',
  defaultPort: 3000,
  routes: ({ route, db, logger }) => {
    const sequence = new Sequence(db.collection('counters'), 'orderSeq');
    const orders = db.collection('orders');
    const inserter = new Inserter(orders);

    route('/orders', {
      POST: async (req, res) => {
        const number = await db.run('createOrder', () => createOrder({ sequence, inserter, orders, logger }));
        res.send(`Order number ${number} created successfully.`);
      },
    });

    route('/orders/:id', {
      DELETE: async (req, res) => {
        const id = parseOrderId(req.params.id);
        await db.run('deleteOrder', () => orders.deleteOne({ _id: id }));
        res.send(`Order number ${id} deleted successfully.`);
      },
    });
  },
});
