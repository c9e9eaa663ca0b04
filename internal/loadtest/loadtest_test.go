package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orders-platform/orders/internal/loadtest"
	"github.com/orders-platform/orders/test/localrun"
)

func TestRealServicesLoseNothingUnderLoad(t *testing.T) {
	stack := localrun.Start(t)
	ctx := context.Background()

	res, err := loadtest.Run(ctx, loadtest.Config{BaseURL: stack.URL, Concurrency: 8, Requests: 400, Duration: 2 * time.Minute, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Write(&out)
	t.Log("\n" + out.String())
	if res.Requests != 400 || res.Errors != 0 || len(res.Problems) != 0 {
		t.Fatalf("want 400 requests, no errors, no problems:\n%s", out.String())
	}
	if res.Acknowledged < 100 || res.Deleted == 0 {
		t.Fatalf("the mix did not create and delete enough to verify anything:\n%s", out.String())
	}
}

// fake is an in-memory orders service that can be made to misbehave.
type fake struct {
	mu      sync.Mutex
	next    int
	orders  map[int]bool
	loseNth int  // acknowledge the nth create without storing it
	keepDel bool // acknowledge deletes without deleting
	// Slow deletes: the order is deleted at once, the answer comes only at
	// answerDeletesAt, or (hangDeletes) never, until the client gives up.
	answerDeletesAt time.Time
	hangDeletes     bool
}

var idPath = regexp.MustCompile(`^/service1/(\d+)$`)

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/service1":
		f.next++
		if f.next != f.loseNth {
			f.orders[f.next] = true
		}
		fmt.Fprintf(w, "Order number %d created successfully.", f.next)
	case r.Method == http.MethodDelete && idPath.MatchString(r.URL.Path):
		var n int
		fmt.Sscan(idPath.FindStringSubmatch(r.URL.Path)[1], &n)
		if !f.keepDel {
			delete(f.orders, n)
		}
		if f.hangDeletes || !f.answerDeletesAt.IsZero() {
			f.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-afterOrNever(f.answerDeletesAt):
			}
			f.mu.Lock()
		}
		fmt.Fprintf(w, "Order number %d deleted successfully.", n)
	case r.Method == http.MethodGet && r.URL.Path == "/service2":
		var parts []string
		for n := 1; n <= f.next; n++ {
			if f.orders[n] {
				parts = append(parts, fmt.Sprintf(`{"_id":%d}`, n))
			}
		}
		fmt.Fprint(w, "["+strings.Join(parts, ",")+"]")
	default:
		http.NotFound(w, r)
	}
}

// afterOrNever fires at t, or never when t is zero.
func afterOrNever(t time.Time) <-chan time.Time {
	if t.IsZero() {
		return nil
	}
	return time.After(time.Until(t))
}

// TestDeadlineLetsDeletesInFlightFinish: the run's deadline falls while deletes
// are in flight, which the server completes and answers after it. Those deletes
// are acknowledged, so nothing is reported lost.
func TestDeadlineLetsDeletesInFlightFinish(t *testing.T) {
	const duration = 500 * time.Millisecond
	// Every delete is answered well after the deadline; each worker soon waits on one.
	svc := &fake{orders: map[int]bool{}, answerDeletesAt: time.Now().Add(duration + time.Second)}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	res, err := loadtest.Run(context.Background(), loadtest.Config{
		BaseURL: srv.URL, Concurrency: 4, Duration: duration, Seed: 3,
		Mix: loadtest.Mix{Create: 3, Delete: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Write(&out)
	if len(res.Problems) != 0 || res.Errors != 0 || len(res.Unsettled) != 0 || res.Deleted == 0 {
		t.Fatalf("deletes answered after the deadline must count as done (no problems, no errors, none unsettled, some deleted):\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

// TestUnansweredDeletesAreUnknownNotLost: deletes that the server completes but
// never answers within the request's timeout have an unknown outcome; the run
// says so and reports no loss.
func TestUnansweredDeletesAreUnknownNotLost(t *testing.T) {
	svc := &fake{orders: map[int]bool{}, hangDeletes: true}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	res, err := loadtest.Run(context.Background(), loadtest.Config{
		BaseURL: srv.URL, Concurrency: 4, Requests: 60, Seed: 5,
		Mix:    loadtest.Mix{Create: 3, Delete: 1},
		Client: &http.Client{Timeout: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Write(&out)
	if len(res.Problems) != 0 || len(res.Unsettled) == 0 || res.NoAnswer == 0 || res.Deleted != 0 {
		t.Fatalf("unanswered deletes must be unsettled, not lost (no problems, some unsettled and unanswered, none deleted):\n%s", out.String())
	}
	if !strings.Contains(out.String(), "outcome unknown: ") || strings.Contains(out.String(), "lost") {
		t.Fatalf("the report must say the outcome is unknown and claim no loss:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

func TestVerificationCatchesLostAndUndeletedOrders(t *testing.T) {
	tests := []struct {
		name string
		svc  *fake
		mix  loadtest.Mix
		want *regexp.Regexp
	}{
		{"correct", &fake{}, loadtest.Mix{Create: 5, List: 1, Delete: 2}, nil},
		// No deletes: the run could otherwise pick the lost order to delete.
		{"a lost order", &fake{loseNth: 5}, loadtest.Mix{Create: 5, List: 1}, regexp.MustCompile(`^order 5 was acknowledged but is not listed: lost$`)},
		{"deletes that do not delete", &fake{keepDel: true}, loadtest.Mix{Create: 5, List: 1, Delete: 2}, regexp.MustCompile(`^order \d+ is listed although its delete was acknowledged$`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.svc.orders = map[int]bool{}
			srv := httptest.NewServer(tc.svc)
			defer srv.Close()
			res, err := loadtest.Run(context.Background(), loadtest.Config{
				BaseURL: srv.URL, Concurrency: 4, Requests: 200, Seed: 7,
				Mix: tc.mix,
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(res.Problems) != 0 || res.Errors != 0 {
					t.Fatalf("correct service: problems %v, errors %d", res.Problems, res.Errors)
				}
				return
			}
			found := false
			for _, p := range res.Problems {
				found = found || tc.want.MatchString(p)
			}
			if !found {
				t.Fatalf("problems %q, want one matching %q", res.Problems, tc.want)
			}
		})
	}
}

func TestRefusesAnUnboundedRun(t *testing.T) {
	_, err := loadtest.Run(context.Background(), loadtest.Config{BaseURL: "http://127.0.0.1:1", Concurrency: 1})
	if err == nil || !strings.Contains(err.Error(), "must stop by itself") {
		t.Fatalf("error %v, want a refusal of an unbounded run", err)
	}
}
