// Command backup dumps the orders database into one verified, gzip'd file (a
// local directory or S3), lists backups and restores one.
//
//	MONGODB_URL=mongodb://… backup dump    --to s3://<bucket>/<prefix> [--database DevOpsAssignment]
//	                        backup list    --from s3://<bucket>/<prefix>
//	MONGODB_URL=mongodb://… backup restore --from s3://<bucket>/<key> [--replace]
//
// --to and --from also take local paths. The connection string is read from the
// environment only, never from a flag, and never printed. Exit codes: 0 done,
// 1 failed, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orders-platform/orders/internal/backup"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, defaultS3)
	stop()
	os.Exit(code)
}

func defaultS3(ctx context.Context) (backup.S3API, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return s3.NewFromConfig(cfg), nil
}

const usage = `usage:
  backup dump    --to <dir | s3://bucket/prefix> [--database DB] [--kms-key-id ARN]
  backup list    --from <dir | s3://bucket/prefix>
  backup restore --from <file | s3://bucket/key> [--database DB] [--replace]
MONGODB_URL (environment only) is the connection string for dump and restore.
`

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type parseError struct{ error }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer,
	newS3 func(context.Context) (backup.S3API, error)) int {
	err := dispatch(ctx, args, getenv, stdout, stderr, newS3)
	var ue usageError
	var pe parseError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp), errors.As(err, &pe):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "backup: %s\n%s", ue.msg, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "backup: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer,
	newS3 func(context.Context) (backup.S3API, error)) error {
	if len(args) == 0 {
		return usageError{"no command"}
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("backup "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var to, from, database, kmsKey *string
	var replace *bool
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	switch cmd {
	case "dump":
		to = fs.String("to", "", "directory or s3://bucket/prefix to write the backup to (required)")
		database = fs.String("database", "DevOpsAssignment", "database to dump")
		kmsKey = fs.String("kms-key-id", "", "SSE-KMS key for S3 (default: the bucket's default key)")
	case "list":
		from = fs.String("from", "", "directory or s3://bucket/prefix holding backups (required)")
	case "restore":
		from = fs.String("from", "", "backup file or s3://bucket/key (required)")
		database = fs.String("database", "DevOpsAssignment", "database to restore into")
		replace = fs.Bool("replace", false, "drop the target database's collections first; without it a non-empty target is refused")
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return parseError{err} // the flag package has printed it with the flags
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	var locArg string
	switch {
	case to != nil:
		locArg = *to
	default:
		locArg = *from
	}
	if locArg == "" {
		return usageError{fmt.Sprintf("%s needs --%s", cmd, map[bool]string{true: "to", false: "from"}[to != nil])}
	}
	loc, err := backup.ParseLocation(locArg)
	if err != nil {
		return usageError{err.Error()}
	}
	if database != nil && *database == "" {
		return usageError{"--database must not be empty"}
	}
	uri := ""
	if cmd != "list" {
		if uri = getenv("MONGODB_URL"); uri == "" {
			return usageError{"MONGODB_URL is not set"}
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	store := &backup.Store{}
	if kmsKey != nil {
		store.KMSKeyID = *kmsKey
	}
	if loc.IsS3() {
		if store.S3, err = newS3(ctx); err != nil {
			return err
		}
	}

	if cmd == "list" {
		entries, err := store.List(ctx, loc)
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%d\n", e.Time.Format(time.RFC3339), e.Database, e.Location, e.Size)
		}
		return nil
	}

	client, err := backup.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))

	switch cmd {
	case "dump":
		out, m, err := backup.DumpTo(ctx, client, *database, store, loc, time.Now())
		if err != nil {
			return backup.Redact(err, uri)
		}
		fmt.Fprintf(stdout, "backup of %s written to %s: %s, sha256 %s\n", m.Database, out, counts(m.Collections), m.SHA256)
	case "restore":
		m, res, err := backup.RestoreFrom(ctx, client, *database, store, loc, backup.RestoreOptions{Replace: *replace})
		if err != nil {
			return backup.Redact(err, uri)
		}
		fmt.Fprintf(stdout, "restored %s (backup of %s taken %s, sha256 verified) into %s: %s\n",
			loc, m.Database, m.Created.Format(time.RFC3339), *database, counts(res.Collections))
		if res.Raised {
			fmt.Fprintf(stdout, "order counter raised to %d, the highest restored order\n", res.Counter)
		} else {
			fmt.Fprintf(stdout, "order counter at %d\n", res.Counter)
		}
	}
	return nil
}

func counts(m map[string]int) string {
	var parts []string
	for c, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "no documents"
	}
	return strings.Join(parts, " ")
}
