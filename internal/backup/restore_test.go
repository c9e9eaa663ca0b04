package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/orders-platform/orders/internal/backup"
	"github.com/orders-platform/orders/internal/devdb"
)

const dbName = "DevOpsAssignment"

// startDB runs an embedded MongoDB-wire server and returns a client to it.
func startDB(t *testing.T) (*mongo.Client, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := devdb.Start(ctx, devdb.Options{DataDir: t.TempDir()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	client, err := backup.Connect(context.Background(), srv.URI())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.Disconnect(context.Background())
		_ = srv.Stop()
		cancel()
	})
	return client, srv.URI()
}

// seed stores orders with these ids and, when seq >= 0, the counter.
func seed(t *testing.T, client *mongo.Client, database string, ids []int32, seq int32) {
	t.Helper()
	ctx := context.Background()
	db := client.Database(database)
	if len(ids) > 0 {
		var docs []any
		for _, id := range ids {
			docs = append(docs, bson.D{{Key: "_id", Value: id}})
		}
		if _, err := db.Collection("orders").InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	if seq >= 0 {
		if _, err := db.Collection("counters").InsertOne(ctx, bson.D{{Key: "_id", Value: "orderSeq"}, {Key: "seq", Value: seq}}); err != nil {
			t.Fatal(err)
		}
	}
}

// state is a database's contents as canonical Extended JSON, per collection.
func state(t *testing.T, client *mongo.Client, database string) map[string][]string {
	t.Helper()
	docs, err := backup.Dump(context.Background(), client, database)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range docs {
		b, err := bson.MarshalExtJSON(d.Doc, true, false)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Collection] = append(out[d.Collection], string(b))
	}
	return out
}

func equalState(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for c, docs := range a {
		if strings.Join(docs, "\n") != strings.Join(b[c], "\n") {
			return false
		}
	}
	return true
}

func dropAll(t *testing.T, client *mongo.Client, database string) {
	t.Helper()
	if err := client.Database(database).Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var created = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

// dumpToDir writes a backup of database into a fresh directory and returns its path.
func dumpToDir(t *testing.T, client *mongo.Client, database string) string {
	t.Helper()
	dir := t.TempDir()
	loc, m, err := backup.DumpTo(context.Background(), client, database, &backup.Store{}, backup.Location{Key: dir}, created)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "DevOpsAssignment-20261127T030000Z.jsonl.gz"); loc.Key != want {
		t.Fatalf("backup written to %s, want %s", loc.Key, want)
	}
	if m.Database != database || !m.Created.Equal(created) {
		t.Fatalf("manifest %+v does not name the source database and time", m)
	}
	return loc.Key
}

// A dump, a dropped database and a restore give back the same orders and counter.
func TestDumpDropRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	client, _ := startDB(t)
	seed(t, client, dbName, []int32{1, 2, 4, 7}, 7)
	before := state(t, client, dbName)
	if len(before["orders"]) != 4 || len(before["counters"]) != 1 {
		t.Fatalf("seeded state %v", before)
	}
	file := dumpToDir(t, client, dbName)

	dropAll(t, client, dbName)
	if got := state(t, client, dbName); len(got) != 0 {
		t.Fatalf("database not empty after drop: %v", got)
	}

	m, res, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, backup.Location{Key: file}, backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Collections["orders"] != 4 || m.Collections["counters"] != 1 || m.Documents != 5 {
		t.Errorf("manifest counts %v (%d documents), want orders=4 counters=1", m.Collections, m.Documents)
	}
	if res.Raised || res.Counter != 7 {
		t.Errorf("counter %d (raised %t), want 7 unchanged", res.Counter, res.Raised)
	}
	if after := state(t, client, dbName); !equalState(before, after) {
		t.Fatalf("restored state differs:\nbefore %v\nafter  %v", before, after)
	}
}

// A non-empty target is refused without --replace and left as it was; with
// --replace it becomes the backup.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	ctx := context.Background()
	client, _ := startDB(t)
	seed(t, client, dbName, []int32{1, 2, 3}, 3)
	backedUp := state(t, client, dbName)
	file := dumpToDir(t, client, dbName)

	// The database moves on after the backup: a new order and a new collection.
	seed(t, client, dbName, []int32{4}, -1)
	if _, err := client.Database(dbName).Collection("other").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	live := state(t, client, dbName)

	_, _, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, backup.Location{Key: file}, backup.RestoreOptions{})
	if !errors.Is(err, backup.ErrNotEmpty) || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("restore into a non-empty database: error %v, want ErrNotEmpty naming --replace", err)
	}
	if got := state(t, client, dbName); !equalState(live, got) {
		t.Fatalf("a refused restore changed the database:\nbefore %v\nafter  %v", live, got)
	}

	if _, _, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, backup.Location{Key: file}, backup.RestoreOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got := state(t, client, dbName); !equalState(backedUp, got) {
		t.Fatalf("--replace did not give back the backup:\nwant %v\ngot  %v", backedUp, got)
	}
}

// A damaged backup is refused before anything is written: the target keeps
// what it had (here: nothing, so a partial write would show).
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	ctx := context.Background()
	client, _ := startDB(t)
	seed(t, client, dbName, []int32{1, 2, 3, 5, 8}, 8)
	file := dumpToDir(t, client, dbName)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	raw := gunzip(t, good)
	head, data, _ := bytes.Cut(raw, []byte("\n"))

	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"flipped byte in the compressed file", flip(good, len(good)/2), "backup is corrupt"},
		{"flipped byte in the gzip trailer (CRC)", flip(good, len(good)-6), "backup is corrupt"},
		{"truncated file", good[:len(good)*2/3], "truncated or damaged"},
		{"empty file", nil, "not a gzip file"},
		{"document changed, valid gzip", regzip(t, bytes.Replace(raw, []byte(`"$numberInt":"5"`), []byte(`"$numberInt":"6"`), 1)), "SHA-256 of the data"},
		{"last document dropped, valid gzip", regzip(t, raw[:bytes.LastIndexByte(raw[:len(raw)-1], '\n')+1]), "SHA-256 of the data"},
		{"manifest only", regzip(t, append(append([]byte{}, head...), '\n')), "SHA-256 of the data"},
		{"no manifest", regzip(t, data), "manifest"},
		{"not a backup", regzip(t, []byte("hello\nworld\n")), "manifest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dropAll(t, client, dbName)
			path := filepath.Join(t.TempDir(), "DevOpsAssignment-20261127T030000Z.jsonl.gz")
			if err := os.WriteFile(path, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, replace := range []bool{false, true} {
				_, _, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, backup.Location{Key: path}, backup.RestoreOptions{Replace: replace})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("replace=%t: error %v, want it to contain %q", replace, err, tc.want)
				}
				if got := state(t, client, dbName); len(got) != 0 {
					t.Fatalf("replace=%t: a refused restore wrote %v", replace, got)
				}
			}
		})
	}
	// The untouched file still restores: the refusals above are about the damage.
	dropAll(t, client, dbName)
	if _, _, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, backup.Location{Key: file}, backup.RestoreOptions{}); err != nil {
		t.Fatalf("the intact backup: %v", err)
	}
}

// The counter ends at max(backed-up seq, highest restored order id).
func TestRestoreRaisesCounter(t *testing.T) {
	ctx := context.Background()
	client, _ := startDB(t)
	tests := []struct {
		name       string
		ids        []int32
		seq        int32 // -1: no counter document
		want       int64
		wantRaised bool
	}{
		{"counter behind its orders", []int32{1, 2, 9}, 4, 9, true},
		{"no counter document", []int32{3, 5}, -1, 5, true},
		{"counter ahead (deleted orders)", []int32{1, 2}, 12, 12, false},
		{"counter equal", []int32{1, 6}, 6, 6, false},
		{"no orders", nil, 3, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dropAll(t, client, dbName)
			seed(t, client, dbName, tc.ids, tc.seq)
			file := dumpToDir(t, client, dbName)
			dropAll(t, client, dbName)
			_, res, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, backup.Location{Key: file}, backup.RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Counter != tc.want || res.Raised != tc.wantRaised {
				t.Errorf("result counter %d raised %t, want %d raised %t", res.Counter, res.Raised, tc.want, tc.wantRaised)
			}
			var doc struct {
				Seq bson.RawValue `bson:"seq"`
			}
			if err := client.Database(dbName).Collection("counters").FindOne(ctx, bson.D{{Key: "_id", Value: "orderSeq"}}).Decode(&doc); err != nil {
				t.Fatalf("read counter: %v", err)
			}
			// The services' $inc keeps an int32 counter: the restore must not change its type.
			if doc.Seq.Type != bson.TypeInt32 || int64(doc.Seq.Int32()) != tc.want {
				t.Errorf("stored counter %v (%s), want int32 %d", doc.Seq, doc.Seq.Type, tc.want)
			}
		})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func regzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x01
	return out
}
