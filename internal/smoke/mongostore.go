package smoke

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoStore reads what the services keep in MongoDB: the orders collection
// and the counter document {_id: "orderSeq", seq: <n>}.
type MongoStore struct {
	client   *mongo.Client
	orders   *mongo.Collection
	counters *mongo.Collection
}

// OpenMongo connects to the database the services use. The connection string
// may hold a password: it never appears in errors.
func OpenMongo(ctx context.Context, uri, database string) (*MongoStore, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second).SetAppName("smoke"))
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", redact(err, uri))
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(ctx)
		return nil, fmt.Errorf("reach MongoDB: %w", redact(err, uri))
	}
	db := client.Database(database)
	return &MongoStore{client: client, orders: db.Collection("orders"), counters: db.Collection("counters")}, nil
}

// OrderExists reports whether the order with this number is stored.
func (s *MongoStore) OrderExists(ctx context.Context, number int64) (bool, error) {
	n, err := s.orders.CountDocuments(ctx, bson.D{{Key: "_id", Value: number}})
	if err != nil {
		return false, fmt.Errorf("count order %d: %w", number, err)
	}
	return n > 0, nil
}

// Counter is the last order number issued, 0 before the first order.
func (s *MongoStore) Counter(ctx context.Context) (int64, error) {
	var doc struct {
		Seq bson.RawValue `bson:"seq"`
	}
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: "orderSeq"}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the order counter: %w", err)
	}
	seq, ok := doc.Seq.AsInt64OK()
	if !ok {
		return 0, fmt.Errorf("the order counter's seq is a %s, want a number", doc.Seq.Type)
	}
	return seq, nil
}

// Close disconnects.
func (s *MongoStore) Close(ctx context.Context) error { return s.client.Disconnect(ctx) }

// redact keeps a connection string's credentials out of an error message.
func redact(err error, uri string) error {
	msg := err.Error()
	secrets := []string{uri}
	if u, perr := url.Parse(uri); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw))
		}
	}
	redacted := msg
	for _, s := range secrets {
		if s != "" {
			redacted = strings.ReplaceAll(redacted, s, "<redacted>")
		}
	}
	if redacted == msg {
		return err
	}
	return errors.New(redacted)
}
