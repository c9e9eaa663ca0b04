// Package loadtest drives the public contract with concurrent clients for a
// bounded time or number of requests, measures throughput, latency and errors
// per operation, and afterwards verifies that every order the system
// acknowledged is listed exactly once (and none it deleted).
//
// The run's deadline only stops new requests: those in flight finish with
// their own timeout, so that what the server did is known. A request that
// still gets no answer has an unknown outcome (the server may have done it);
// the verification counts it as unknown, never as lost.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orders-platform/orders/internal/smoke"
)

// Config bounds and shapes the load. The run stops starting requests at
// Duration or Requests, whichever comes first (at least one must be set), or
// when the caller's context ends; requests in flight then finish.
type Config struct {
	BaseURL     string
	Concurrency int
	Duration    time.Duration
	Requests    int
	// Mix weighs the operations: create, list, delete (of an order this run created).
	Mix Mix
	// Client sends the requests. Its Timeout bounds each one; a client without
	// one gets DefaultRequestTimeout per request.
	Client *http.Client
	Seed   uint64
}

// DefaultRequestTimeout bounds a request whose client sets no Timeout.
const DefaultRequestTimeout = 30 * time.Second

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
	Op    Op
	Count int
	// Errors are the requests without the expected answer; NoAnswer of them got
	// none at all (timeout, cut connection): their outcome is unknown.
	Errors, NoAnswer int
	P50, P99         time.Duration
}

// Result is what a run measured and found.
type Result struct {
	Elapsed  time.Duration
	Requests int
	// Errors are the requests without the expected answer; NoAnswer of them got
	// none at all.
	Errors, NoAnswer int
	PerOp            []Stats
	// Acknowledged is every order number a create answered with.
	Acknowledged int
	Deleted      int
	// Unsettled are the orders (sorted) whose delete was sent but never
	// acknowledged: the server may or may not have deleted them, so the
	// verification accepts either.
	Unsettled []int64
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
	op       Op
	latency  time.Duration
	ok       bool
	noAnswer bool
}

// Run applies the load, then lists the orders and verifies them. Cancelling
// ctx, like the deadline, stops new requests; those in flight finish.
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
		cfg.Client = &http.Client{Timeout: DefaultRequestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency}}
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	// stop ends the starting of requests; the requests themselves run on
	// inflight, which neither the deadline nor the caller cancels, so that an
	// answer the server sends after the deadline is still read.
	stop := ctx
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		stop, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	inflight := context.WithoutCancel(ctx)

	var (
		mu        sync.Mutex
		samples   []sample
		acked     = map[int64]int{} // number → times acknowledged
		live      []int64           // acknowledged and not known deleted: candidates for delete
		deleted   = map[int64]bool{}
		unsettled = map[int64]bool{} // delete sent, never acknowledged
		sent      int
	)
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if stop.Err() != nil || (cfg.Requests > 0 && sent >= cfg.Requests) {
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
			for take() {
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
				status, body, err := send(inflight, cfg.Client, op, base, victim)
				s := sample{op: op, latency: time.Since(t0), noAnswer: err != nil}
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
						delete(unsettled, victim)
						s.ok = true
					} else {
						// No acknowledgement: the delete may have happened (an
						// answer lost, a 5xx after the write) or not. Either
						// outcome is correct until a later delete settles it.
						unsettled[victim] = true
						live = append(live, victim)
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
	for n := range unsettled {
		res.Unsettled = append(res.Unsettled, n)
	}
	slices.Sort(res.Unsettled)

	vctx, cancel := context.WithTimeout(inflight, time.Minute)
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
	res.Problems = verify(acked, deleted, unsettled, listed)
	return res, nil
}

// verify compares what was acknowledged with what is listed. An order whose
// delete is unsettled may be listed or not.
func verify(acked map[int64]int, deleted, unsettled map[int64]bool, listed []int64) []string {
	var problems []string
	inList := map[int64]bool{}
	for _, n := range listed {
		inList[n] = true
	}
	var numbers []int64
	for n := range acked {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		switch {
		case acked[n] > 1:
			problems = append(problems, fmt.Sprintf("order number %d was acknowledged %d times", n, acked[n]))
		case deleted[n] && inList[n]:
			problems = append(problems, fmt.Sprintf("order %d is listed although its delete was acknowledged", n))
		case !deleted[n] && !unsettled[n] && !inList[n]:
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

// send makes one request; an error means no (complete) answer arrived.
func send(ctx context.Context, client *http.Client, op Op, base string, number int64) (int, string, error) {
	if client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
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
		if s.noAnswer {
			res.NoAnswer++
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
			if s.noAnswer {
				st.NoAnswer++
			}
		}
		slices.Sort(lat)
		st.P50 = lat[len(lat)*50/100]
		st.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		res.PerOp = append(res.PerOp, st)
	}
	return res
}

// Write prints the result for a person.
func (r *Result) Write(w io.Writer) {
	fmt.Fprintf(w, "%d requests in %s: %.1f req/s, error rate %.2f%%\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput(), 100*r.ErrorRate())
	fmt.Fprintf(w, "  %-22s %8s %8s %9s %10s %10s\n", "operation", "count", "errors", "no answer", "p50", "p99")
	for _, s := range r.PerOp {
		fmt.Fprintf(w, "  %-22s %8d %8d %9d %10s %10s\n", s.Op, s.Count, s.Errors, s.NoAnswer, s.P50.Round(100*time.Microsecond), s.P99.Round(100*time.Microsecond))
	}
	for _, s := range r.PerOp {
		if s.Op == Create && s.NoAnswer > 0 {
			fmt.Fprintf(w, "outcome unknown: %d creates got no answer; an order one of them made is not checked\n", s.NoAnswer)
		}
	}
	if len(r.Unsettled) > 0 {
		fmt.Fprintf(w, "outcome unknown: %d deletes were never acknowledged (orders %s); listed or not, both are correct\n", len(r.Unsettled), numberList(r.Unsettled, 10))
	}
	fmt.Fprintf(w, "verified: %d orders acknowledged, %d of them deleted; ", r.Acknowledged, r.Deleted)
	if len(r.Problems) == 0 && len(r.Unsettled) > 0 {
		fmt.Fprintln(w, "every other acknowledged order is listed exactly once, no deleted one is")
		return
	}
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "every acknowledged order is listed exactly once, no deleted one is")
		return
	}
	fmt.Fprintf(w, "%d problems:\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

// numberList shows at most max numbers, then how many more there are.
func numberList(ns []int64, max int) string {
	parts := make([]string, 0, min(len(ns), max)+1)
	for i, n := range ns {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(ns)-max))
			break
		}
		parts = append(parts, strconv.FormatInt(n, 10))
	}
	return strings.Join(parts, ", ")
}
