package smoke_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/orders-platform/orders/internal/smoke"
	"github.com/orders-platform/orders/test/localrun"
)

func TestPassesAgainstTheRealServices(t *testing.T) {
	stack := localrun.Start(t)
	ctx := context.Background()
	store, err := smoke.OpenMongo(ctx, stack.MongoURI, "DevOpsAssignment")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)

	for run := 1; run <= 2; run++ { // a second run meets existing orders and a moved counter
		report := smoke.Run(ctx, smoke.Config{BaseURL: stack.URL, Store: store})
		var out strings.Builder
		report.Write(&out)
		if err := report.Err(); err != nil {
			t.Fatalf("run %d failed:\n%s", run, out.String())
		}
		if len(report.Checks) < 15 {
			t.Fatalf("run %d made only %d checks:\n%s", run, len(report.Checks), out.String())
		}
		if !strings.Contains(out.String(), fmt.Sprintf("Order number %d created successfully.", run)) {
			t.Fatalf("run %d: report does not show order %d being created:\n%s", run, run, out.String())
		}
	}
}

// broken is a deliberately wrong orders service behind one handler: the
// contract's paths, with one behaviour changed by the test.
type broken struct {
	mu      sync.Mutex
	orders  map[int]bool
	next    int
	create  func(n int) string        // the POST answer
	list    func(ids []int) string    // the GET body
	deletes bool                      // whether DELETE really deletes
	refuse  func(r *http.Request) int // the status for a bad request, 0 for the right one
	limit   int                       // answer 429 to every limit-th request, as a rate limit would
	served  int
}

var idPath = regexp.MustCompile(`^/service1/([1-9][0-9]{0,15})$`)

func (b *broken) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.served++
	if b.limit > 0 && b.served%b.limit == 0 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "local_rate_limited", http.StatusTooManyRequests)
		return
	}
	status := http.StatusOK
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/service1" && r.Header.Get("Content-Type") != "application/json" && r.ContentLength < 4096:
		b.next++
		b.orders[b.next] = true
		fmt.Fprint(w, b.create(b.next))
		return
	case r.Method == http.MethodGet && r.URL.Path == "/service2":
		var ids []int
		for id := 1; id <= b.next; id++ {
			if b.orders[id] {
				ids = append(ids, id)
			}
		}
		fmt.Fprint(w, b.list(ids))
		return
	case r.Method == http.MethodDelete && idPath.MatchString(r.URL.Path):
		var id int
		fmt.Sscanf(idPath.FindStringSubmatch(r.URL.Path)[1], "%d", &id)
		if b.deletes {
			delete(b.orders, id)
		}
		fmt.Fprintf(w, "Order number %d deleted successfully.", id)
		return
	case r.Method == http.MethodPost && r.ContentLength >= 4096:
		status = http.StatusRequestEntityTooLarge
	case r.URL.Path == "/service1" || r.URL.Path == "/service2":
		status = http.StatusMethodNotAllowed
		if r.Method == http.MethodPost {
			status = http.StatusBadRequest
		}
	case strings.Count(r.URL.Path, "/") > 2:
		status = http.StatusNotFound
	default:
		status = http.StatusBadRequest
	}
	if b.refuse != nil {
		if s := b.refuse(r); s != 0 {
			status = s
		}
	}
	w.WriteHeader(status)
	fmt.Fprint(w, http.StatusText(status))
}

func correct() *broken {
	return &broken{
		orders:  map[int]bool{},
		create:  func(n int) string { return fmt.Sprintf("Order number %d created successfully.", n) },
		list:    func(ids []int) string { return listJSON(ids) },
		deletes: true,
	}
}

func listJSON(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf(`{"_id":%d}`, id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestFailsPreciselyOnABrokenService(t *testing.T) {
	tests := []struct {
		name      string
		breakIt   func(b *broken)
		failCheck string
		message   *regexp.Regexp
	}{
		{
			name:      "correct service passes",
			breakIt:   func(*broken) {},
			failCheck: "",
		},
		{
			name:      "a rate limit that refuses every third request is waited out",
			breakIt:   func(b *broken) { b.limit = 3 },
			failCheck: "",
		},
		{
			name:      "wrong creation text",
			breakIt:   func(b *broken) { b.create = func(n int) string { return fmt.Sprintf("Order %d created.", n) } },
			failCheck: "POST /service1 creates an order",
			message:   regexp.MustCompile(`want "Order number <n> created successfully\.", got "Order 1 created\."`),
		},
		{
			name: "a number listed twice",
			breakIt: func(b *broken) {
				b.list = func(ids []int) string { return listJSON(append(ids, ids...)) }
			},
			failCheck: "GET /service2 lists the new order",
			message:   regexp.MustCompile(`_id 1 follows 1: the list must be in ascending order without repeats`),
		},
		{
			name:      "a delete that does not delete",
			breakIt:   func(b *broken) { b.deletes = false },
			failCheck: "GET /service2 no longer lists it",
			message:   regexp.MustCompile(`order 1 is still listed after it was deleted`),
		},
		{
			name: "the list pretty-printed",
			breakIt: func(b *broken) {
				b.list = func(ids []int) string { return strings.ReplaceAll(listJSON(ids), ":", ": ") }
			},
			failCheck: "GET /service2 lists the new order",
			message:   regexp.MustCompile(`not in the contract's exact form`),
		},
		{
			name: "a bad id accepted",
			breakIt: func(b *broken) {
				b.refuse = func(r *http.Request) int {
					if r.URL.Path == "/service1/abc" {
						return http.StatusOK
					}
					return 0
				}
			},
			failCheck: "DELETE /service1/abc is refused (non-integer id)",
			message:   regexp.MustCompile(`DELETE /service1/abc: status 200, want 400`),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := correct()
			tc.breakIt(svc)
			srv := httptest.NewServer(svc)
			defer srv.Close()
			report := smoke.Run(context.Background(), smoke.Config{BaseURL: srv.URL})
			var out strings.Builder
			report.Write(&out)
			if tc.failCheck == "" {
				if report.Err() != nil {
					t.Fatalf("the correct fake fails:\n%s", out.String())
				}
				return
			}
			var failed *smoke.Check
			for i, c := range report.Checks {
				if c.Name == tc.failCheck {
					failed = &report.Checks[i]
				}
			}
			if failed == nil || failed.Err == nil {
				t.Fatalf("check %q did not fail:\n%s", tc.failCheck, out.String())
			}
			if !tc.message.MatchString(failed.Err.Error()) {
				t.Fatalf("check %q failed with %q, want it to match %q", tc.failCheck, failed.Err, tc.message)
			}
			if !strings.Contains(out.String(), "FAIL  "+tc.failCheck) {
				t.Fatalf("report does not show the failure:\n%s", out.String())
			}
		})
	}
}

func TestParseListAcceptsOnlyTheContractForm(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{`[]`, true},
		{`[{"_id":1},{"_id":3}]`, true},
		{`[{"_id":3},{"_id":1}]`, false},
		{`[{"_id":1},{"_id":1}]`, false},
		{`[{"_id":1,"x":2}]`, false},
		{`[{"_id":"1"}]`, false},
		{`[{"_id":1.5}]`, false},
		{`[{"_id":0}]`, false},
		{`[ {"_id":1}]`, false},
		{`{"_id":1}`, false},
		{``, false},
	}
	for _, tc := range tests {
		_, err := smoke.ParseList([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("ParseList(%q) error = %v, want ok=%t", tc.body, err, tc.ok)
		}
	}
}
