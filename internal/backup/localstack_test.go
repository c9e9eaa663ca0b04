package backup_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orders-platform/orders/internal/backup"
	"github.com/orders-platform/orders/internal/smoke"
	"github.com/orders-platform/orders/test/localrun"
)

var createdRE = regexp.MustCompile(`^Order number ([0-9]+) created successfully\.$`)

func call(t *testing.T, method, url string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	return strings.TrimSpace(string(b))
}

func create(t *testing.T, base string) int {
	t.Helper()
	body := call(t, http.MethodPost, base+"/service1")
	m := createdRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("POST /service1: %q", body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// The restore that matters: the real services behind the gateway on devdb; orders
// created through the public contract, dumped, the database wiped, restored. The
// services then serve exactly the restored orders, the smoke checker (with the
// data-side checks) passes, and the next order number continues after them.
func TestRestoreOnTheLocalStack(t *testing.T) {
	stack := localrun.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	for want := 1; want <= 5; want++ {
		if got := create(t, stack.URL); got != want {
			t.Fatalf("created order %d, want %d", got, want)
		}
	}
	if got := call(t, http.MethodDelete, stack.URL+"/service1/2"); got != "Order number 2 deleted successfully." {
		t.Fatalf("DELETE /service1/2: %q", got)
	}
	const listed = `[{"_id":1},{"_id":3},{"_id":4},{"_id":5}]`
	if got := call(t, http.MethodGet, stack.URL+"/service2"); got != listed {
		t.Fatalf("GET /service2 = %s, want %s", got, listed)
	}

	client, err := backup.Connect(ctx, stack.MongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	dir := backup.Location{Key: t.TempDir()}
	file, _, err := backup.DumpTo(ctx, client, dbName, &backup.Store{}, dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// Disaster: the database is gone.
	dropAll(t, client, dbName)
	if got := call(t, http.MethodGet, stack.URL+"/service2"); got != "[]" {
		t.Fatalf("after the wipe GET /service2 = %s, want []", got)
	}

	_, res, err := backup.RestoreFrom(ctx, client, dbName, &backup.Store{}, file, backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counter != 5 {
		t.Errorf("restored counter %d, want 5", res.Counter)
	}
	if got := call(t, http.MethodGet, stack.URL+"/service2"); got != listed {
		t.Fatalf("after the restore GET /service2 = %s, want %s", got, listed)
	}
	// Numbers continue after the restored ones: never a reused order number.
	if got := create(t, stack.URL); got != 6 {
		t.Fatalf("first order after the restore is %d, want 6", got)
	}

	store, err := smoke.OpenMongo(ctx, stack.MongoURI, dbName)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	report := smoke.Run(ctx, smoke.Config{BaseURL: stack.URL, Store: store})
	var out strings.Builder
	report.Write(&out)
	if err := report.Err(); err != nil {
		t.Fatalf("smoke after the restore:\n%s", out.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("Order number %d created successfully.", 7)) {
		t.Errorf("the smoke run did not continue at order 7:\n%s", out.String())
	}
}
