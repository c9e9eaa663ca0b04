package backup

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// DumpTo dumps database and stores the backup under dir, named by the time now.
func DumpTo(ctx context.Context, client *mongo.Client, database string, store *Store, dir Location, now time.Time) (Location, *Manifest, error) {
	docs, err := Dump(ctx, client, database)
	if err != nil {
		return Location{}, nil, fmt.Errorf("dump %s: %w", database, err)
	}
	var buf bytes.Buffer
	m, err := Encode(&buf, database, now, docs)
	if err != nil {
		return Location{}, nil, fmt.Errorf("dump %s: %w", database, err)
	}
	// Read back what is about to be stored: a backup that does not verify is never written.
	if _, _, err := Decode(bytes.NewReader(buf.Bytes())); err != nil {
		return Location{}, nil, fmt.Errorf("dump %s: the new backup does not verify: %w", database, err)
	}
	loc, err := store.Put(ctx, dir, Name(database, m.Created), buf.Bytes())
	if err != nil {
		return Location{}, nil, fmt.Errorf("store the backup of %s: %w", database, err)
	}
	return loc, m, nil
}

// Load reads and verifies a backup without touching any database.
func Load(ctx context.Context, store *Store, from Location) (*Manifest, []Document, error) {
	b, err := store.Get(ctx, from)
	if err != nil {
		return nil, nil, err
	}
	m, docs, err := Decode(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("verify %s: %w", from, err)
	}
	return m, docs, nil
}

// RestoreFrom loads and verifies the backup at from, then restores it into database.
func RestoreFrom(ctx context.Context, client *mongo.Client, database string, store *Store, from Location, opts RestoreOptions) (*Manifest, *RestoreResult, error) {
	m, docs, err := Load(ctx, store, from)
	if err != nil {
		return nil, nil, err
	}
	res, err := Restore(ctx, client, database, m, docs, opts)
	if err != nil {
		return m, nil, fmt.Errorf("restore %s into %s: %w", from, database, err)
	}
	return m, res, nil
}
