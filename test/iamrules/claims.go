package iamrules

import (
	"slices"

	"github.com/orders-platform/orders/test/terraformrules"
)

// OIDCHost is GitHub's token issuer; its claims are IAM condition keys
// "<host>:sub" and "<host>:aud".
const OIDCHost = "token.actions.githubusercontent.com"

// Claim is one subject a job's token can carry, and how the job comes to run with it.
type Claim struct {
	Subject string
	// Release is true when the job runs so from the release branch or in its
	// environment, as the workflow means it to; false for the other ways it can
	// be started (a workflow_dispatch from another branch).
	Release bool
	How     string
}

// Claims are the subjects GitHub can put in a job's token
// (docs.github.com/en/actions/reference/security/oidc, "Example subject
// claims"): repo:<repo>:environment:<env> when the job names an environment,
// whatever the event; otherwise repo:<repo>:pull_request on a pull_request
// event, and repo:<repo>:ref:refs/heads/<branch> for the branch it runs on.
// A schedule runs on the default branch; a push on each branch of its filter; a
// workflow_dispatch on any branch, shown as the release branch and "feature".
func Claims(job terraformrules.WorkflowJob, repo, release string) []Claim {
	prefix := "repo:" + repo + ":"
	if len(job.Environments) > 0 {
		var out []Claim
		for _, e := range job.Environments {
			out = append(out, Claim{Subject: prefix + "environment:" + e, Release: true, How: "environment " + e})
		}
		return out
	}
	var out []Claim
	add := func(c Claim) {
		if !slices.ContainsFunc(out, func(x Claim) bool { return x.Subject == c.Subject }) {
			out = append(out, c)
		}
	}
	branch := func(b string, how string) Claim {
		return Claim{Subject: prefix + "ref:refs/heads/" + b, Release: b == release, How: how}
	}
	for _, ev := range job.Triggers {
		switch ev {
		case "pull_request", "pull_request_target":
			add(Claim{Subject: prefix + "pull_request", Release: true, How: ev})
		case "push":
			branches := job.PushBranches
			if len(branches) == 0 {
				branches = []string{release, "feature"}
			}
			for _, b := range branches {
				add(branch(b, "push to "+b))
			}
		case "schedule":
			add(branch(release, "schedule (default branch)"))
		case "workflow_dispatch":
			add(branch(release, "workflow_dispatch on "+release))
			add(branch("feature", "workflow_dispatch on another branch"))
		}
	}
	return out
}

// TrustRequest is the AssumeRoleWithWebIdentity call a job makes with a token
// of that subject, through the repository's OIDC provider.
func TrustRequest(provider, subject string) Request {
	return Request{
		Action:    "sts:AssumeRoleWithWebIdentity",
		Principal: "Federated:" + provider,
		Context: map[string][]string{
			OIDCHost + ":sub": {subject},
			// configure-aws-credentials asks for this audience by default.
			OIDCHost + ":aud": {"sts.amazonaws.com"},
		},
	}
}
