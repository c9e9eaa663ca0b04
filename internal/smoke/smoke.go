// Package smoke checks the orders platform's public contract against a running
// deployment: create, delete and list byte for byte, the bad-input probes, and,
// given a connection string, what the database holds.
package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config says what to check.
type Config struct {
	// BaseURL is the public endpoint, e.g. http://<load balancer>; the
	// contract's paths (/service1, /service2) are appended to it.
	BaseURL string
	// Client sends the requests; nil means a client with a 10 s timeout.
	Client *http.Client
	// Store, when set, is also checked: the order is stored, the deleted one
	// is gone, the counter never goes backwards.
	Store Store
}

// Store is the data side of the contract, as the services keep it.
type Store interface {
	// OrderExists reports whether the order with this number is stored.
	OrderExists(ctx context.Context, number int64) (bool, error)
	// Counter is the last order number issued (0 before the first order).
	Counter(ctx context.Context) (int64, error)
}

// Check is the outcome of one step.
type Check struct {
	Name     string
	Detail   string // what was seen, when it passed
	Err      error  // why it failed; nil when it passed
	Duration time.Duration
}

// Report is every check, in the order they ran.
type Report struct {
	BaseURL string
	Checks  []Check
}

// Failed is the number of failed checks.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Err != nil {
			n++
		}
	}
	return n
}

// Err summarises the failures, or is nil when every check passed.
func (r *Report) Err() error {
	var errs []error
	for _, c := range r.Checks {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, c.Err))
		}
	}
	return errors.Join(errs...)
}

// Write prints the report for a person: one line per check, then a summary.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "smoke %s\n", r.BaseURL)
	for _, c := range r.Checks {
		status, text := "ok  ", c.Detail
		if c.Err != nil {
			status, text = "FAIL", c.Err.Error()
		}
		fmt.Fprintf(w, "  %s  %-68s %6dms  %s\n", status, c.Name, c.Duration.Milliseconds(), text)
	}
	fmt.Fprintf(w, "smoke: %d of %d checks passed\n", len(r.Checks)-r.Failed(), len(r.Checks))
}

var (
	createdText = regexp.MustCompile(`^Order number ([1-9][0-9]*) created successfully\.$`)
	errSkipped  = errors.New("skipped: an earlier check it depends on failed")
)

type run struct {
	cfg    Config
	base   string
	report *Report
}

// Run performs every check and returns the report; it never stops at the first failure.
func Run(ctx context.Context, cfg Config) *Report {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	r := &run{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/"), report: &Report{BaseURL: cfg.BaseURL}}

	var counterBefore int64
	if cfg.Store != nil {
		r.check("counter is readable", func() (string, error) {
			n, err := cfg.Store.Counter(ctx)
			counterBefore = n
			return fmt.Sprintf("seq %d", n), err
		})
	}

	var number int64
	created := r.check("POST /service1 creates an order", func() (string, error) {
		body, err := r.expect(ctx, http.MethodPost, "/service1", "{}", "application/x-www-form-urlencoded", http.StatusOK)
		if err != nil {
			return "", err
		}
		m := createdText.FindStringSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("want %q, got %q", "Order number <n> created successfully.", body)
		}
		number, _ = strconv.ParseInt(m[1], 10, 64)
		return body, nil
	})

	r.checkIf(created, "GET /service2 lists the new order", func() (string, error) {
		ids, err := r.list(ctx)
		if err != nil {
			return "", err
		}
		if !slices.Contains(ids, number) {
			return "", fmt.Errorf("order %d is missing from the list of %d orders", number, len(ids))
		}
		return fmt.Sprintf("%d listed, %d among them", len(ids), number), nil
	})

	if cfg.Store != nil {
		r.checkIf(created, "the new order is stored", func() (string, error) {
			return r.stored(ctx, number, true)
		})
		r.checkIf(created, "the counter moved forward", func() (string, error) {
			seq, err := cfg.Store.Counter(ctx)
			if err != nil {
				return "", err
			}
			if seq < number || seq < counterBefore {
				return "", fmt.Errorf("counter is %d after order %d was created (it was %d before)", seq, number, counterBefore)
			}
			counterBefore = seq
			return fmt.Sprintf("seq %d", seq), nil
		})
	}

	deleted := r.checkIf(created, "DELETE /service1/<n> deletes it", func() (string, error) {
		return r.deleteOrder(ctx, number)
	})
	r.checkIf(deleted, "GET /service2 no longer lists it", func() (string, error) {
		ids, err := r.list(ctx)
		if err != nil {
			return "", err
		}
		if slices.Contains(ids, number) {
			return "", fmt.Errorf("order %d is still listed after it was deleted", number)
		}
		return fmt.Sprintf("%d listed, %d not among them", len(ids), number), nil
	})
	if cfg.Store != nil {
		r.checkIf(deleted, "the deleted order is gone from the store", func() (string, error) {
			return r.stored(ctx, number, false)
		})
	}
	r.checkIf(deleted, "DELETE again answers the same (idempotent)", func() (string, error) {
		return r.deleteOrder(ctx, number)
	})

	r.badInput(ctx)

	if cfg.Store != nil {
		r.check("the counter never went backwards", func() (string, error) {
			seq, err := cfg.Store.Counter(ctx)
			if err != nil {
				return "", err
			}
			if seq < counterBefore {
				return "", fmt.Errorf("counter went back from %d to %d", counterBefore, seq)
			}
			return fmt.Sprintf("seq %d", seq), nil
		})
	}
	return r.report
}

// probe is a request that must be refused without changing anything.
type probe struct {
	name, method, path, body, contentType string
	status                                int
}

var probes = []probe{
	{"non-integer id", http.MethodDelete, "/service1/abc", "", "", http.StatusBadRequest},
	{"negative id", http.MethodDelete, "/service1/-1", "", "", http.StatusBadRequest},
	{"zero id", http.MethodDelete, "/service1/0", "", "", http.StatusBadRequest},
	{"fractional id", http.MethodDelete, "/service1/1.5", "", "", http.StatusBadRequest},
	{"absurdly large id", http.MethodDelete, "/service1/99999999999999999999", "", "", http.StatusBadRequest},
	{"malformed JSON", http.MethodPost, "/service1", `{"a":`, "application/json", http.StatusBadRequest},
	{"body over the limit", http.MethodPost, "/service1", strings.Repeat("x", 64<<10), "application/octet-stream", http.StatusRequestEntityTooLarge},
	{"wrong method", http.MethodGet, "/service1", "", "", http.StatusMethodNotAllowed},
	{"unknown route under a service", http.MethodDelete, "/service1/1/extra", "", "", http.StatusNotFound},
}

// badInput sends each probe and checks its status, and that the listing and
// the counter are the same afterwards.
func (r *run) badInput(ctx context.Context) {
	before, listErr := r.listBody(ctx)
	var seqBefore int64
	var seqErr error
	if r.cfg.Store != nil {
		seqBefore, seqErr = r.cfg.Store.Counter(ctx)
	}
	for _, p := range probes {
		r.check(fmt.Sprintf("%s %s is refused (%s)", p.method, shorten(p.path), p.name), func() (string, error) {
			body, err := r.expect(ctx, p.method, p.path, p.body, p.contentType, p.status)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d %s", p.status, firstLine(body)), nil
		})
	}
	r.check("the refused requests changed nothing", func() (string, error) {
		if listErr != nil {
			return "", fmt.Errorf("listing before the probes: %w", listErr)
		}
		after, err := r.listBody(ctx)
		if err != nil {
			return "", err
		}
		if after != before {
			return "", fmt.Errorf("the list changed: before %s, after %s", shorten(before), shorten(after))
		}
		if r.cfg.Store != nil {
			seqAfter, err := r.cfg.Store.Counter(ctx)
			if err = errors.Join(seqErr, err); err != nil {
				return "", err
			}
			if seqAfter != seqBefore {
				return "", fmt.Errorf("the counter changed from %d to %d", seqBefore, seqAfter)
			}
		}
		return "list and counter unchanged", nil
	})
}

func (r *run) deleteOrder(ctx context.Context, number int64) (string, error) {
	body, err := r.expect(ctx, http.MethodDelete, fmt.Sprintf("/service1/%d", number), "", "", http.StatusOK)
	if err != nil {
		return "", err
	}
	if want := fmt.Sprintf("Order number %d deleted successfully.", number); body != want {
		return "", fmt.Errorf("want %q, got %q", want, body)
	}
	return body, nil
}

func (r *run) stored(ctx context.Context, number int64, want bool) (string, error) {
	found, err := r.cfg.Store.OrderExists(ctx, number)
	if err != nil {
		return "", err
	}
	if found != want {
		return "", fmt.Errorf("order %d stored: %t, want %t", number, found, want)
	}
	return fmt.Sprintf("order %d stored: %t", number, found), nil
}

// list fetches GET /service2 and checks its form: exactly `[{"_id":1},{"_id":3}]`,
// numbers ascending, none twice.
func (r *run) list(ctx context.Context) ([]int64, error) {
	body, err := r.listBody(ctx)
	if err != nil {
		return nil, err
	}
	return ParseList([]byte(body))
}

func (r *run) listBody(ctx context.Context) (string, error) {
	return r.expect(ctx, http.MethodGet, "/service2", "", "", http.StatusOK)
}

// ParseList checks that body is the contract's list, byte for byte in form,
// and returns the order numbers.
func ParseList(body []byte) ([]int64, error) {
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, fmt.Errorf("list is not a JSON array of objects: %v (body %s)", err, shorten(string(body)))
	}
	ids := make([]int64, 0, len(entries))
	var canonical bytes.Buffer
	canonical.WriteByte('[')
	for i, e := range entries {
		raw, ok := e["_id"]
		if !ok || len(e) != 1 {
			return nil, fmt.Errorf("entry %d is %s, want {\"_id\":<number>}", i, shorten(string(mustJSON(e))))
		}
		id, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || id < 1 {
			return nil, fmt.Errorf("entry %d has _id %s, want a positive whole number", i, raw)
		}
		if i > 0 && id <= ids[i-1] {
			return nil, fmt.Errorf("entry %d: _id %d follows %d: the list must be in ascending order without repeats", i, id, ids[i-1])
		}
		ids = append(ids, id)
		if i > 0 {
			canonical.WriteByte(',')
		}
		fmt.Fprintf(&canonical, `{"_id":%d}`, id)
	}
	canonical.WriteByte(']')
	if !bytes.Equal(canonical.Bytes(), body) {
		return nil, fmt.Errorf("list is not in the contract's exact form: got %s, want %s", shorten(string(body)), shorten(canonical.String()))
	}
	return ids, nil
}

// expect sends one request and returns the body when the status is the one
// wanted. A 429 from the gateway's rate limit is not an answer about the
// contract: the request is sent again after a pause, a few times.
func (r *run) expect(ctx context.Context, method, path, body, contentType string, status int) (string, error) {
	for attempt := 1; ; attempt++ {
		got, b, wait, err := r.send(ctx, method, path, body, contentType)
		if err != nil {
			return "", err
		}
		if got == http.StatusTooManyRequests && status != http.StatusTooManyRequests && attempt < maxAttempts {
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("%s %s: rate limited, and %w", method, path, ctx.Err())
			case <-time.After(wait):
				continue
			}
		}
		if got != status {
			return "", fmt.Errorf("%s %s: status %d, want %d (body %q)", method, path, got, status, shorten(b))
		}
		return b, nil
	}
}

const maxAttempts = 5

// send makes one request; wait is how long a 429 asks the client to pause.
func (r *run) send(ctx context.Context, method, path, body, contentType string) (status int, text string, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", 0, fmt.Errorf("build request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := r.cfg.Client.Do(req)
	if err != nil {
		return 0, "", 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return 0, "", 0, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	wait = time.Second
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs >= 0 && secs <= 30 {
		wait = time.Duration(secs) * time.Second
	}
	return res.StatusCode, string(b), wait, nil
}

func (r *run) check(name string, fn func() (string, error)) bool {
	start := time.Now()
	detail, err := fn()
	r.report.Checks = append(r.report.Checks, Check{Name: name, Detail: detail, Err: err, Duration: time.Since(start)})
	return err == nil
}

func (r *run) checkIf(ok bool, name string, fn func() (string, error)) bool {
	if !ok {
		r.report.Checks = append(r.report.Checks, Check{Name: name, Err: errSkipped})
		return false
	}
	return r.check(name, fn)
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return shorten(line)
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
