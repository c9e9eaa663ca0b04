// Package loadtest drives the public contract with concurrent clients for a
// bounded time or number of requests, measures throughput, latency and errors
// per operation, and afterwards verifies that every order the system
// acknowledged is listed exactly once (and none it deleted).
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orders-platform/orders/internal/smoke"
)

// Config bounds and shapes the load. The run stops at Duration or Requests,
// whichever comes first; at least one must be set.
type Config struct {
	BaseURL     string
	Concurrency int
	Duration    time.Duration
	Requests    int
	// Mix weighs the operations: create, list, delete (of an order this run created).
	Mix    Mix
	Client *http.Client
	Seed   uint64
}

// Mix is the relative weight of each operation.
type Mix struct{ Create, List, Delete int }

// Op is one kind of request.
type Op string

// The operations, as the public contract names them.
const (
	Create Op = "POST /service1"
	List   Op = "GET /service2"
	Delete Op = "DELETE /service1/<n>"
)

// Stats summarises one operation.
type Stats struct {
	Op       Op
	Count    int
	Errors   int
	P50, P99 time.Duration
}

// Result is what a run measured and found.
type Result struct {
	Elapsed  time.Duration
	Requests int
	Errors   int
	PerOp    []Stats
	// Acknowledged is every order number a create answered with.
	Acknowledged int
	Deleted      int
	// Problems found when verifying the final listing; empty means every
	// acknowledged order is listed exactly once and no deleted one is.
	Problems []string
}

// Throughput is requests per second over the whole run.
func (r *Result) Throughput() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// ErrorRate is the share of requests that did not get the expected answer.
func (r *Result) ErrorRate() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Errors) / float64(r.Requests)
}

var created = regexp.MustCompile(`^Order number ([1-9][0-9]*) created successfully\.$`)

type sample struct {
	op      Op
	latency time.Duration
	ok      bool
}

// Run applies the load, then lists the orders and verifies them.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency < 1 {
		return nil, errors.New("loadtest: concurrency must be at least 1")
	}
	if cfg.Duration <= 0 && cfg.Requests <= 0 {
		return nil, errors.New("loadtest: set a duration or a number of requests: a load test must stop by itself")
	}
	if cfg.Mix == (Mix{}) {
		cfg.Mix = Mix{Create: 6, List: 3, Delete: 1}
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency}}
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}

	var (
		mu      sync.Mutex
		samples []sample
		acked   = map[int64]int{} // number → times acknowledged
		live    []int64           // acknowledged and not deleted: candidates for delete
		deleted = map[int64]bool{}
		sent    int
	)
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if cfg.Requests > 0 && sent >= cfg.Requests {
			return false
		}
		sent++
		return true
	}

	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(worker)))
			for ctx.Err() == nil && take() {
				op := pick(rng, cfg.Mix)
				var victim int64
				if op == Delete {
					mu.Lock()
					if len(live) == 0 {
						op = Create
					} else {
						i := rng.IntN(len(live))
						victim = live[i]
						live = append(live[:i], live[i+1:]...)
					}
					mu.Unlock()
				}
				t0 := time.Now()
				status, body, err := send(ctx, cfg.Client, op, base, victim)
				if ctx.Err() != nil && err != nil {
					return // the run's time is up; this request does not count
				}
				s := sample{op: op, latency: time.Since(t0)}
				mu.Lock()
				switch op {
				case Create:
					if m := created.FindStringSubmatch(body); err == nil && status == 200 && m != nil {
						n, _ := strconv.ParseInt(m[1], 10, 64)
						acked[n]++
						live = append(live, n)
						s.ok = true
					}
				case Delete:
					if err == nil && status == 200 && body == fmt.Sprintf("Order number %d deleted successfully.", victim) {
						deleted[victim] = true
						s.ok = true
					} else {
						live = append(live, victim) // not known to be deleted
					}
				case List:
					s.ok = err == nil && status == 200
				}
				samples = append(samples, s)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	res := summarise(samples, time.Since(start))
	res.Acknowledged, res.Deleted = len(acked), len(deleted)

	// Verify with a fresh context: the load's deadline has passed.
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	status, body, err := send(vctx, cfg.Client, List, base, 0)
	if err != nil || status != 200 {
		return res, fmt.Errorf("loadtest: final listing failed: status %d, %v", status, err)
	}
	listed, err := smoke.ParseList([]byte(body))
	if err != nil {
		res.Problems = append(res.Problems, err.Error())
		return res, nil
	}
	res.Problems = verify(acked, deleted, listed)
	return res, nil
}

// verify compares what was acknowledged with what is listed.
func verify(acked map[int64]int, deleted map[int64]bool, listed []int64) []string {
	var problems []string
	inList := map[int64]bool{}
	for _, n := range listed {
		inList[n] = true
	}
	var numbers []int64
	for n := range acked {
		numbers = append(numbers, n)
	}
	sort.Slice(numbers, func(i, j int) bool { return numbers[i] < numbers[j] })
	for _, n := range numbers {
		switch {
		case acked[n] > 1:
			problems = append(problems, fmt.Sprintf("order number %d was acknowledged %d times", n, acked[n]))
		case deleted[n] && inList[n]:
			problems = append(problems, fmt.Sprintf("order %d is listed although its delete was acknowledged", n))
		case !deleted[n] && !inList[n]:
			problems = append(problems, fmt.Sprintf("order %d was acknowledged but is not listed: lost", n))
		}
	}
	return problems
}

func pick(rng *rand.Rand, m Mix) Op {
	r := rng.IntN(m.Create + m.List + m.Delete)
	switch {
	case r < m.Create:
		return Create
	case r < m.Create+m.List:
		return List
	default:
		return Delete
	}
}

func send(ctx context.Context, client *http.Client, op Op, base string, number int64) (int, string, error) {
	method, path := http.MethodPost, "/service1"
	switch op {
	case List:
		method, path = http.MethodGet, "/service2"
	case Delete:
		method, path = http.MethodDelete, fmt.Sprintf("/service1/%d", number)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func summarise(samples []sample, elapsed time.Duration) *Result {
	res := &Result{Elapsed: elapsed, Requests: len(samples)}
	byOp := map[Op][]sample{}
	for _, s := range samples {
		byOp[s.op] = append(byOp[s.op], s)
		if !s.ok {
			res.Errors++
		}
	}
	for _, op := range []Op{Create, List, Delete} {
		ss := byOp[op]
		if len(ss) == 0 {
			continue
		}
		lat := make([]time.Duration, len(ss))
		st := Stats{Op: op, Count: len(ss)}
		for i, s := range ss {
			lat[i] = s.latency
			if !s.ok {
				st.Errors++
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		st.P50 = lat[len(lat)*50/100]
		st.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		res.PerOp = append(res.PerOp, st)
	}
	return res
}

// Write prints the result for a person.
func (r *Result) Write(w io.Writer) {
	fmt.Fprintf(w, "%d requests in %s: %.1f req/s, error rate %.2f%%\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput(), 100*r.ErrorRate())
	fmt.Fprintf(w, "  %-22s %8s %8s %10s %10s\n", "operation", "count", "errors", "p50", "p99")
	for _, s := range r.PerOp {
		fmt.Fprintf(w, "  %-22s %8d %8d %10s %10s\n", s.Op, s.Count, s.Errors, s.P50.Round(100*time.Microsecond), s.P99.Round(100*time.Microsecond))
	}
	fmt.Fprintf(w, "verified: %d orders acknowledged, %d of them deleted; ", r.Acknowledged, r.Deleted)
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "every acknowledged order is listed exactly once, no deleted one is")
		return
	}
	fmt.Fprintf(w, "%d problems:\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}
