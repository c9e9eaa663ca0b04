// Package preflight checks, in seconds and before anything is created, the
// preconditions that otherwise fail a first deployment late (most after a 15–20
// minute Terraform apply): who the caller is and that it can use the state
// bucket; that the bootstrap the platform reads is there; that the caller has, or
// will get, an EKS access entry; that its egress address may reach the Kubernetes
// API; the Elastic IP and vCPU quotas against what the environment needs; the
// hosted zone of a domain; that the region agrees everywhere; and, before a
// destroy, the settings that would stop it half-way. Every failed precondition is
// one line with its fix. Nothing is created or changed: every call is a read.
package preflight

import (
	"fmt"
	"strings"
)

// Mode is the function the preflight runs before; each needs its own checks.
type Mode string

// The modes.
const (
	ForPlan      Mode = "plan"      // identity, region, state bucket, bootstrap
	ForProvision Mode = "provision" // and quotas, hosted zone
	ForDeploy    Mode = "deploy"    // and cluster access (access entry, egress address)
	ForDestroy   Mode = "destroy"   // plan's, cluster access, and what would stop terraform destroy
)

func (m Mode) quotas() bool  { return m == ForProvision || m == ForDeploy }
func (m Mode) cluster() bool { return m == ForDeploy || m == ForDestroy }

// Problem is one failed precondition and what to do about it.
type Problem struct {
	Check, Message, Fix string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s; fix: %s", p.Check, p.Message, p.Fix)
}

// Line is the outcome of one check: OK with what was seen, or a Problem.
type Line struct {
	Check, Detail string
	Problem       *Problem
}

// Report is every check, in the order they ran.
type Report struct {
	Env  string
	Mode Mode
	// Caller is the identity's ARN, when it was learnt.
	Caller string
	// BucketRegion is the state bucket's region, when it was learnt.
	BucketRegion string
	Lines        []Line
}

func (r *Report) ok(check, format string, args ...any) {
	r.Lines = append(r.Lines, Line{Check: check, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) fail(check, fix, format string, args ...any) {
	p := Problem{Check: check, Message: fmt.Sprintf(format, args...), Fix: fix}
	r.Lines = append(r.Lines, Line{Check: check, Problem: &p})
}

// Problems are the failed preconditions.
func (r *Report) Problems() []Problem {
	var out []Problem
	for _, l := range r.Lines {
		if l.Problem != nil {
			out = append(out, *l.Problem)
		}
	}
	return out
}

// String is the report for a person: one line per check.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "preflight for %s --env=%s\n", r.Mode, r.Env)
	for _, l := range r.Lines {
		if l.Problem != nil {
			fmt.Fprintf(&b, "  FAIL  %s\n", l.Problem)
		} else {
			fmt.Fprintf(&b, "  ok    %s: %s\n", l.Check, l.Detail)
		}
	}
	if n := len(r.Problems()); n > 0 {
		fmt.Fprintf(&b, "preflight: %d of %d checks failed; nothing was created\n", n, len(r.Lines))
	} else {
		fmt.Fprintf(&b, "preflight: all %d checks passed\n", len(r.Lines))
	}
	return b.String()
}

// Err is nil when every check passed, else an error with one line per failed
// precondition.
func (r *Report) Err() error {
	ps := r.Problems()
	if len(ps) == 0 {
		return nil
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("preflight for %s --env=%s: %d precondition(s) failed, nothing was created:\n%s", r.Mode, r.Env, len(ps), strings.Join(lines, "\n"))
}
