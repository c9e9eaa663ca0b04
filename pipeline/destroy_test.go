package pipeline

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"

	"github.com/orders-platform/orders/test/awsstub"
)

// What destroy keeps: the environment's DLM snapshots, found by the tags the
// policy adds, and the retained volumes the deployer names; each with the
// command that deletes it.
func TestDestroyKept(t *testing.T) {
	var asked *ec2.DescribeSnapshotsInput
	client := ec2.NewFromConfig(aws.Config{
		Region:      "eu-central-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
		APIOptions: []func(*middleware.Stack) error{awsstub.CallResponder(func(c awsstub.Call) (int, http.Header, string) {
			asked = c.Input.(*ec2.DescribeSnapshotsInput)
			return 200, nil, `<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><snapshotSet>` +
				`<item><snapshotId>snap-0b</snapshotId><volumeSize>8</volumeSize><startTime>2026-11-27T01:00:12.000Z</startTime></item>` +
				`<item><snapshotId>snap-0a</snapshotId><volumeSize>8</volumeSize><startTime>2026-11-26T01:00:09.000Z</startTime></item>` +
				`</snapshotSet></DescribeSnapshotsResponse>`
		})},
	})
	snaps, err := KeptSnapshots(context.Background(), client, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked.OwnerIds, []string{"self"}) || len(asked.Filters) != 2 ||
		aws.ToString(asked.Filters[0].Name) != "tag:SnapshotCreator" || asked.Filters[0].Values[0] != "dlm" ||
		aws.ToString(asked.Filters[1].Name) != "tag:Environment" || asked.Filters[1].Values[0] != "dev" {
		t.Errorf("asked for %+v", asked)
	}
	uninstall := "orders: uninstalled (was revision 3) in 2s\nkept: EBS volume vol-0abc (PersistentVolume pvc-1, claim mongodb/datadir-mongodb-0, reclaim policy Retain); delete it with: aws ec2 delete-volume --volume-id vol-0abc\nuninstalled the releases of environment dev\n"
	got := DestroyKept("dev", "eu-central-1", snaps, nil, uninstall)
	for _, want := range []string{
		"  EBS snapshot snap-0a (8 GiB, 2026-11-26 01:00Z): aws ec2 delete-snapshot --region eu-central-1 --snapshot-id snap-0a\n  EBS snapshot snap-0b",
		"  EBS volume vol-0abc (PersistentVolume pvc-1, claim mongodb/datadir-mongodb-0, reclaim policy Retain); delete it with: aws ec2 delete-volume --volume-id vol-0abc\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	got = DestroyKept("dev", "eu-central-1", nil, errors.New("AccessDenied"), "")
	if !strings.Contains(got, "could not list them: AccessDenied") || !strings.Contains(got, "Name=tag:Environment,Values=dev") || !strings.Contains(got, "Retain: none") {
		t.Errorf("without the list:\n%s", got)
	}
}
