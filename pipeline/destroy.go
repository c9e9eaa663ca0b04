package pipeline

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2SnapshotsAPI is the part of the EC2 client destroy uses to list what it keeps.
type EC2SnapshotsAPI interface {
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// KeptSnapshots lists the environment's daily EBS snapshots, which terraform
// destroy leaves: deleting the DLM policy (terraform/platform/snapshots.tf) stops
// new ones and deletes none. They carry the tags the policy adds
// (SnapshotCreator=dlm, Environment=<env>).
func KeptSnapshots(ctx context.Context, api EC2SnapshotsAPI, env string) ([]ec2types.Snapshot, error) {
	var out []ec2types.Snapshot
	pages := ec2.NewDescribeSnapshotsPaginator(api, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:SnapshotCreator"), Values: []string{"dlm"}},
			{Name: aws.String("tag:Environment"), Values: []string{env}},
		},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the snapshots of %s: %w", env, err)
		}
		out = append(out, page.Snapshots...)
	}
	sort.Slice(out, func(i, j int) bool { return aws.ToString(out[i].SnapshotId) < aws.ToString(out[j].SnapshotId) })
	return out, nil
}

// DestroyKept is the end of destroy's report: what it deliberately leaves, and
// how to delete each. listErr is set when the snapshots could not be listed;
// uninstallLog is the deployer's uninstall output, whose "kept: " lines name the
// retained volumes.
func DestroyKept(env, region string, snapshots []ec2types.Snapshot, listErr error, uninstallLog string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "destroyed %s. Kept on purpose (delete by hand once no longer needed):\n", env)
	filter := fmt.Sprintf("aws ec2 describe-snapshots --region %s --owner-ids self --filters Name=tag:SnapshotCreator,Values=dlm Name=tag:Environment,Values=%s", region, env)
	switch {
	case listErr != nil:
		fmt.Fprintf(&b, "  EBS snapshots of %s's volumes (could not list them: %v): find them with %s\n", env, listErr, filter)
	case len(snapshots) == 0:
		fmt.Fprintf(&b, "  EBS snapshots: none of %s left\n", env)
	default:
		for _, s := range snapshots {
			fmt.Fprintf(&b, "  EBS snapshot %s (%d GiB, %s): aws ec2 delete-snapshot --region %s --snapshot-id %s\n",
				aws.ToString(s.SnapshotId), aws.ToInt32(s.VolumeSize), aws.ToTime(s.StartTime).UTC().Format("2006-01-02 15:04Z"), region, aws.ToString(s.SnapshotId))
		}
	}
	volumes := 0
	for _, line := range strings.Split(uninstallLog, "\n") {
		if rest, ok := strings.CutPrefix(line, "kept: "); ok {
			fmt.Fprintf(&b, "  %s\n", rest)
			volumes++
		}
	}
	if volumes == 0 {
		b.WriteString("  EBS volumes with reclaim policy Retain: none\n")
	}
	b.WriteString("  the state bucket, its key and the bootstrap's roles: shared by every environment (terraform/bootstrap, docs/deployment.md)\n")
	return b.String()
}
