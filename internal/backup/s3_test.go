package backup_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orders-platform/orders/internal/backup"
	"github.com/orders-platform/orders/test/awsstub"
)

const bucket = "orders-dev-mongodb-backups-123456789012-eu-central-1"

// fakeBucket answers the S3 calls the backup makes from an in-memory map of
// objects, through the real SDK client (build, sign, deserialize): only the
// round trip is replaced (test/awsstub).
type fakeBucket struct {
	t        *testing.T
	mu       sync.Mutex
	objects  map[string][]byte
	puts     []http.Header // headers of every PutObject
	pageSize int
}

func (f *fakeBucket) client() *s3.Client {
	return s3.New(s3.Options{
		Region:      "eu-central-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		APIOptions:  []func(*middleware.Stack) error{awsstub.Responder(f.answer)},
	})
}

func (f *fakeBucket) answer(req *smithyhttp.Request) (int, http.Header, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(req.URL.Host, bucket+".") {
		f.t.Errorf("request to host %q, want the bucket %s (virtual-hosted style)", req.URL.Host, bucket)
	}
	if req.Header.Get("Authorization") == "" {
		f.t.Errorf("%s %s is not signed", req.Method, req.URL.Path)
	}
	key := strings.TrimPrefix(req.URL.Path, "/")
	xml := http.Header{"Content-Type": {"application/xml"}}
	switch {
	case req.Method == http.MethodPut:
		body, err := io.ReadAll(req.GetStream())
		if err != nil {
			f.t.Fatal(err)
		}
		f.puts = append(f.puts, req.Header.Clone())
		if _, ok := f.objects[key]; ok && req.Header.Get("If-None-Match") == "*" {
			return 412, xml, `<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`
		}
		f.objects[key] = body
		return 200, http.Header{"Etag": {`"e"`}, "X-Amz-Server-Side-Encryption": {req.Header.Get("X-Amz-Server-Side-Encryption")}}, ""
	case req.Method == http.MethodGet && req.URL.Query().Get("list-type") == "2":
		return 200, xml, f.list(req.URL.Query().Get("prefix"), req.URL.Query().Get("continuation-token"))
	case req.Method == http.MethodGet:
		b, ok := f.objects[key]
		if !ok {
			return 404, xml, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`
		}
		return 200, http.Header{"Content-Length": {fmt.Sprint(len(b))}, "Content-Type": {"application/gzip"}}, string(b)
	}
	f.t.Errorf("unexpected S3 call %s %s", req.Method, req.URL)
	return 400, xml, `<Error><Code>InvalidRequest</Code></Error>`
}

// list answers ListObjectsV2 in pages of pageSize keys, in key order.
func (f *fakeBucket) list(prefix, token string) string {
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, prefix) && k > token {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	truncated := len(keys) > f.pageSize
	if truncated {
		keys = keys[:f.pageSize]
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>%t</IsTruncated>`, bucket, prefix, len(keys), truncated)
	for _, k := range keys {
		fmt.Fprintf(&b, `<Contents><Key>%s</Key><LastModified>2026-11-27T03:00:05.000Z</LastModified><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>`, k, len(f.objects[k]))
	}
	if truncated {
		fmt.Fprintf(&b, `<NextContinuationToken>%s</NextContinuationToken>`, keys[len(keys)-1])
	}
	b.WriteString(`</ListBucketResult>`)
	return b.String()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Dump to S3, restore from S3: the bytes go through the SDK's PutObject and
// GetObject; the upload asks for SSE-KMS as the bucket policy requires.
func TestS3DumpAndRestore(t *testing.T) {
	ctx := context.Background()
	client, _ := startDB(t)
	seed(t, client, dbName, []int32{1, 2, 3}, 3)
	before := state(t, client, dbName)

	const kmsKey = "arn:aws:kms:eu-central-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
	fb := &fakeBucket{t: t, objects: map[string][]byte{}, pageSize: 1000}
	store := &backup.Store{S3: fb.client(), KMSKeyID: kmsKey}
	dir, err := backup.ParseLocation("s3://" + bucket + "/dev/")
	if err != nil {
		t.Fatal(err)
	}
	loc, _, err := backup.DumpTo(ctx, client, dbName, store, dir, created)
	if err != nil {
		t.Fatal(err)
	}
	if want := "s3://" + bucket + "/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"; loc.String() != want {
		t.Fatalf("uploaded to %s, want %s", loc, want)
	}
	if len(fb.puts) != 1 {
		t.Fatalf("%d PutObject calls, want 1", len(fb.puts))
	}
	for h, want := range map[string]string{
		// backup.tf's bucket policy refuses any other encryption and any other key.
		"X-Amz-Server-Side-Encryption":                "aws:kms",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": kmsKey,
		// A backup is never overwritten (the bucket is versioned, but a name is one backup).
		"If-None-Match": "*",
	} {
		if got := fb.puts[0].Get(h); got != want {
			t.Errorf("PutObject header %s = %q, want %q", h, got, want)
		}
	}

	// The same name again is refused by S3's conditional write and reported.
	if _, _, err := backup.DumpTo(ctx, client, dbName, store, dir, created); err == nil || !strings.Contains(err.Error(), "PreconditionFailed") {
		t.Errorf("second upload under the same name: error %v, want PreconditionFailed", err)
	}

	dropAll(t, client, dbName)
	if _, _, err := backup.RestoreFrom(ctx, client, dbName, store, loc, backup.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if after := state(t, client, dbName); !equalState(before, after) {
		t.Fatalf("restored from S3:\nbefore %v\nafter  %v", before, after)
	}

	// A damaged object in the bucket is refused, nothing written; a missing key is reported.
	dropAll(t, client, dbName)
	fb.objects["dev/DevOpsAssignment-20261127T040000Z.jsonl.gz"] = flip(fb.objects[loc.Key], len(fb.objects[loc.Key])/2)
	for _, tc := range []struct{ key, want string }{
		{"dev/DevOpsAssignment-20261127T040000Z.jsonl.gz", "backup is corrupt"},
		{"dev/DevOpsAssignment-20261127T050000Z.jsonl.gz", "NoSuchKey"},
		{"dev/", "names no backup object"},
	} {
		_, _, err := backup.RestoreFrom(ctx, client, dbName, store, backup.Location{Bucket: bucket, Key: tc.key}, backup.RestoreOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("restore %s: error %v, want %q", tc.key, err, tc.want)
		}
		if got := state(t, client, dbName); len(got) != 0 {
			t.Fatalf("restore %s wrote %v", tc.key, got)
		}
	}
}

// Without a key id the upload still asks for SSE-KMS (the bucket's default key),
// which the bucket policy accepts.
func TestS3PutWithoutKeyID(t *testing.T) {
	fb := &fakeBucket{t: t, objects: map[string][]byte{}, pageSize: 1000}
	store := &backup.Store{S3: fb.client()}
	if _, err := store.Put(context.Background(), backup.Location{Bucket: bucket}, "x"+backup.Ext, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if got := fb.puts[0].Get("X-Amz-Server-Side-Encryption"); got != "aws:kms" {
		t.Errorf("SSE header %q, want aws:kms", got)
	}
	if got := fb.puts[0].Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != "" {
		t.Errorf("key id header %q without a key id", got)
	}
	if _, ok := fb.objects["x"+backup.Ext]; !ok {
		t.Errorf("no prefix: object stored under %v, want the bare name", fb.objects)
	}
}

// list: every page of ListObjectsV2, only backup names, newest first.
func TestS3ListNewestFirst(t *testing.T) {
	fb := &fakeBucket{t: t, pageSize: 2, objects: map[string][]byte{
		"dev/DevOpsAssignment-20261125T030000Z.jsonl.gz": []byte("a"),
		"dev/DevOpsAssignment-20261127T030000Z.jsonl.gz": []byte("bb"),
		"dev/DevOpsAssignment-20261126T030000Z.jsonl.gz": []byte("ccc"),
		"dev/DevOpsAssignment-20261126T150000Z.jsonl.gz": []byte("dddd"),
		"dev/README.txt": []byte("not a backup"),
		"prod/DevOpsAssignment-20261128T030000Z.jsonl.gz": []byte("other prefix"),
	}}
	store := &backup.Store{S3: fb.client()}
	entries, err := store.List(context.Background(), backup.Location{Bucket: bucket, Key: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s %s %d", e.Time.Format("2006-01-02T15"), e.Location, e.Size))
	}
	want := []string{
		"2026-11-27T03 s3://" + bucket + "/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz 2",
		"2026-11-26T15 s3://" + bucket + "/dev/DevOpsAssignment-20261126T150000Z.jsonl.gz 4",
		"2026-11-26T03 s3://" + bucket + "/dev/DevOpsAssignment-20261126T030000Z.jsonl.gz 3",
		"2026-11-25T03 s3://" + bucket + "/dev/DevOpsAssignment-20261125T030000Z.jsonl.gz 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("list:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in, bucket, key, err string
	}{
		{"s3://b/p/x.jsonl.gz", "b", "p/x.jsonl.gz", ""},
		{"s3://b", "b", "", ""},
		{"/var/backups", "", "/var/backups", ""},
		{"s3:///key", "", "", "names no bucket"},
		{"gs://b/k", "", "", "only local paths and s3://"},
		{"", "", "", "empty"},
	}
	for _, tc := range tests {
		l, err := backup.ParseLocation(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || l.Bucket != tc.bucket || l.Key != tc.key {
			t.Errorf("%q: %+v %v, want bucket %q key %q", tc.in, l, err, tc.bucket, tc.key)
		}
	}
}
