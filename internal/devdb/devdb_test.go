package devdb_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/orders-platform/orders/internal/devdb"
)

func TestServesTheOrderCounterAndSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()

	seqAfter := func(srv *devdb.Server) int32 {
		t.Helper()
		client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
		if err != nil {
			t.Fatalf("connect %s: %v", srv.URI(), err)
		}
		defer client.Disconnect(ctx)
		var doc struct {
			Seq int32 `bson:"seq"`
		}
		err = client.Database("DevOpsAssignment").Collection("counters").FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: "orderSeq"}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: 1}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
		).Decode(&doc)
		if err != nil {
			t.Fatalf("increment counter: %v", err)
		}
		return doc.Seq
	}

	srv, err := devdb.Start(ctx, devdb.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URI(), "mongodb://127.0.0.1:") {
		t.Fatalf("URI = %q, want a loopback mongodb:// URI", srv.URI())
	}
	if got := seqAfter(srv); got != 1 {
		t.Fatalf("first upserted seq = %d, want 1", got)
	}
	if got := seqAfter(srv); got != 2 {
		t.Fatalf("second seq = %d, want 2", got)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// The data directory keeps acknowledged writes across restarts.
	srv, err = devdb.Start(ctx, devdb.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if got := seqAfter(srv); got != 3 {
		t.Fatalf("seq after restart = %d, want 3", got)
	}
}

func TestRejectsBadOptions(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name string
		opts devdb.Options
		want string
	}{
		{"no data dir", devdb.Options{}, "data directory is required"},
		{"malformed address", devdb.Options{Addr: "localhost", DataDir: t.TempDir()}, `listen address "localhost"`},
		{"port in use", devdb.Options{Addr: busy.Addr().String(), DataDir: t.TempDir()}, "cannot listen on " + busy.Addr().String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := devdb.Start(context.Background(), tc.opts)
			if err == nil {
				srv.Stop()
				t.Fatalf("Start(%+v) succeeded, want error containing %q", tc.opts, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
