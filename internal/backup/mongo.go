package backup

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// The services' data: orders {_id: <int>} and the counter {_id: "orderSeq", seq: <int>}.
const (
	OrdersCollection   = "orders"
	CountersCollection = "counters"
	CounterID          = "orderSeq"
)

// Connect opens a client for uri. Errors never contain the connection string
// or its password.
func Connect(ctx context.Context, uri string) (*mongo.Client, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(15 * time.Second).SetAppName("backup"))
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", Redact(err, uri))
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("reach MongoDB: %w", Redact(err, uri))
	}
	return client, nil
}

// Redact keeps a connection string and its password out of an error.
func Redact(err error, uri string) error {
	if err == nil {
		return nil
	}
	secrets := []string{uri}
	if u, perr := url.Parse(uri); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// userCollections lists the database's collections other than system ones, sorted.
func userCollections(ctx context.Context, db *mongo.Database) ([]string, error) {
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list collections of %s: %w", db.Name(), err)
	}
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, "system.") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Dump reads every document of every collection of the database, collection by
// collection in name order and by _id within one, with majority read concern.
func Dump(ctx context.Context, client *mongo.Client, database string) ([]Document, error) {
	db := client.Database(database, options.Database().SetReadConcern(readconcern.Majority()))
	colls, err := userCollections(ctx, db)
	if err != nil {
		return nil, err
	}
	var docs []Document
	for _, c := range colls {
		cur, err := db.Collection(c).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("read collection %s: %w", c, err)
		}
		for cur.Next(ctx) {
			docs = append(docs, Document{Collection: c, Doc: append(bson.Raw(nil), cur.Current...)})
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("read collection %s: %w", c, err)
		}
	}
	return docs, nil
}

// ErrNotEmpty is returned when a restore would overwrite data without Replace.
var ErrNotEmpty = errors.New("the target database is not empty")

// RestoreOptions controls Restore.
type RestoreOptions struct {
	// Replace drops the target database's collections before writing; without it
	// a target with any document is refused.
	Replace bool
}

// RestoreResult says what a restore wrote.
type RestoreResult struct {
	Collections map[string]int
	// Counter is the order counter after the restore; Raised says it had to be
	// moved past the highest restored order.
	Counter int64
	Raised  bool
}

// Restore writes verified documents (from Decode) into database with majority
// write concern, then makes the order counter at least the highest order id,
// and reads the counts back.
func Restore(ctx context.Context, client *mongo.Client, database string, m *Manifest, docs []Document, opts RestoreOptions) (*RestoreResult, error) {
	db := client.Database(database, options.Database().
		SetWriteConcern(writeconcern.Majority()).SetReadConcern(readconcern.Majority()))
	existing, err := userCollections(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, c := range existing {
		n, err := db.Collection(c).CountDocuments(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("count documents of %s.%s: %w", database, c, err)
		}
		if n > 0 && !opts.Replace {
			return nil, fmt.Errorf("%w: %s.%s holds %d documents (pass --replace to drop them)", ErrNotEmpty, database, c, n)
		}
	}

	// The backup's documents are in memory and verified: only now is anything changed.
	if opts.Replace {
		for _, c := range existing {
			if err := db.Collection(c).Drop(ctx); err != nil {
				return nil, fmt.Errorf("drop %s.%s: %w", database, c, err)
			}
		}
	}
	const batch = 1000
	byColl := map[string][]any{}
	var order []string
	for _, d := range docs {
		if _, ok := byColl[d.Collection]; !ok {
			order = append(order, d.Collection)
		}
		byColl[d.Collection] = append(byColl[d.Collection], d.Doc)
	}
	for _, c := range order {
		all := byColl[c]
		for i := 0; i < len(all); i += batch {
			if _, err := db.Collection(c).InsertMany(ctx, all[i:min(i+batch, len(all))]); err != nil {
				return nil, fmt.Errorf("write %s.%s (documents %d-%d of %d): %w", database, c, i+1, min(i+batch, len(all)), len(all), err)
			}
		}
	}

	res := &RestoreResult{Collections: map[string]int{}}
	var created bool
	if res.Counter, res.Raised, created, err = raiseCounter(ctx, db); err != nil {
		return nil, err
	}
	for c, want := range m.Collections {
		n, err := db.Collection(c).CountDocuments(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("count restored documents of %s.%s: %w", database, c, err)
		}
		extra := 0
		if c == CountersCollection && created {
			extra = 1 // the counter document was created
		}
		if int(n) != want+extra {
			return nil, fmt.Errorf("%s.%s holds %d documents after the restore, the backup has %d", database, c, n, want)
		}
		res.Collections[c] = int(n)
	}
	return res, nil
}

// raiseCounter sets the counter to max(its value, highest numeric order id), so
// that order numbers never repeat after a restore of a counter older than its orders.
func raiseCounter(ctx context.Context, db *mongo.Database) (seq int64, raised, created bool, err error) {
	var doc struct {
		Seq bson.RawValue `bson:"seq"`
	}
	counters := db.Collection(CountersCollection)
	err = counters.FindOne(ctx, bson.D{{Key: "_id", Value: CounterID}}).Decode(&doc)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return 0, false, false, fmt.Errorf("read the order counter: %w", err)
	default:
		v, ok := number(doc.Seq)
		if !ok {
			return 0, false, false, fmt.Errorf("the order counter's seq is a %s, want a number", doc.Seq.Type)
		}
		seq = v
	}

	var last struct {
		ID bson.RawValue `bson:"_id"`
	}
	highest := int64(0)
	// Highest numeric _id: BSON orders numbers before other types, so filter on type.
	err = db.Collection(OrdersCollection).FindOne(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$type", Value: "number"}}}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}}),
	).Decode(&last)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return 0, false, false, fmt.Errorf("find the highest order id: %w", err)
	default:
		if v, ok := number(last.ID); ok {
			highest = v
		}
	}
	if highest <= seq {
		return seq, false, false, nil
	}
	var value any = highest
	if highest <= math.MaxInt32 {
		value = int32(highest) // the type the services' $inc produces
	}
	up, err := counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: CounterID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: value}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return 0, false, false, fmt.Errorf("raise the order counter to %d: %w", highest, err)
	}
	return highest, true, up.UpsertedCount > 0, nil
}

func number(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return v.AsInt64OK()
	case bson.TypeDouble:
		f := v.Double()
		return int64(math.Ceil(f)), !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
