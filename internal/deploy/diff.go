package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// ReleaseDiff is the difference between what a release would apply and what is live.
type ReleaseDiff struct {
	Name, Namespace string
	// Skip says why the release was not compared.
	Skip string
	// Installed is false when the release does not exist yet (everything is new).
	Installed bool
	// Revision is the live revision compared against.
	Revision int
	// Unified is a unified diff of the manifests; empty when they are the same.
	Unified string
}

// Diff renders every active release against the cluster (Helm dry-run with the
// cluster's capabilities) and compares the manifest with the live release's
// (Helm's stored manifest of the current revision). Nothing is changed.
func (d *Deployer) Diff(ctx context.Context, p *Plan, given Credentials) ([]ReleaseDiff, error) {
	pr, err := d.prepare(ctx, p, given)
	if err != nil {
		return nil, err
	}
	var out []ReleaseDiff
	for _, s := range p.Steps {
		rd := ReleaseDiff{Name: s.Name, Namespace: s.Namespace, Skip: s.Skip}
		if s.Skip != "" {
			out = append(out, rd)
			continue
		}
		cfg, err := d.helmConfig(s.Namespace)
		if err != nil {
			return out, err
		}
		live := ""
		cur, err := action.NewGet(cfg).Run(s.Name)
		switch {
		case errors.Is(err, driver.ErrReleaseNotFound):
		case err != nil:
			return out, fmt.Errorf("release %s: read the live release: %w", s.Name, err)
		default:
			live, rd.Installed, rd.Revision = cur.Manifest, true, cur.Version
		}
		var desired string
		if rd.Installed {
			up := action.NewUpgrade(cfg)
			up.Namespace, up.DryRun, up.DryRunOption = s.Namespace, true, "client"
			up.MaxHistory = d.maxHistory()
			rel, err := up.RunWithContext(ctx, s.Name, pr.charts[s.Name], pr.values[s.Name])
			if err != nil {
				return out, fmt.Errorf("release %s: render against the cluster: %w", s.Name, err)
			}
			desired = rel.Manifest
		} else {
			inst := action.NewInstall(cfg)
			inst.ReleaseName, inst.Namespace, inst.DryRun, inst.DryRunOption = s.Name, s.Namespace, true, "client"
			rel, err := inst.RunWithContext(ctx, pr.charts[s.Name], pr.values[s.Name])
			if err != nil {
				return out, fmt.Errorf("release %s: render against the cluster: %w", s.Name, err)
			}
			desired = rel.Manifest
		}
		from := fmt.Sprintf("live/%s/%s", s.Namespace, s.Name)
		if rd.Installed {
			from += fmt.Sprintf(" (revision %d)", rd.Revision)
		}
		rd.Unified, err = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(normalize(live)), B: difflib.SplitLines(normalize(desired)),
			FromFile: from, ToFile: fmt.Sprintf("rendered/%s/%s", s.Namespace, s.Name), Context: 3,
		})
		if err != nil {
			return out, fmt.Errorf("release %s: diff: %w", s.Name, err)
		}
		out = append(out, rd)
	}
	return out, nil
}

func normalize(manifest string) string {
	m := strings.TrimSpace(manifest)
	if m == "" {
		return ""
	}
	return m + "\n"
}
