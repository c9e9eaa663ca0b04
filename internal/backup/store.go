package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Location is where backups are kept: a local path or s3://bucket/key-or-prefix.
type Location struct {
	Bucket string // "" for a local path
	Key    string // S3 key or prefix (no leading "/"), or the local path
}

// ParseLocation parses a --to/--from argument.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, errors.New("empty location")
	}
	if rest, ok := strings.CutPrefix(s, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return Location{}, fmt.Errorf("location %q names no bucket", s)
		}
		return Location{Bucket: bucket, Key: key}, nil
	}
	if strings.Contains(s, "://") {
		return Location{}, fmt.Errorf("location %q: only local paths and s3:// are supported", s)
	}
	return Location{Key: s}, nil
}

// IsS3 reports whether the location is in S3.
func (l Location) IsS3() bool { return l.Bucket != "" }

func (l Location) String() string {
	if l.IsS3() {
		return "s3://" + l.Bucket + "/" + l.Key
	}
	return l.Key
}

// S3API is the part of the S3 client backups use.
type S3API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Store writes, reads and lists backups.
type Store struct {
	S3 S3API // needed only for s3:// locations
	// KMSKeyID, when set, is sent as the SSE-KMS key; the bucket policy accepts
	// only the environment's key. Without it the bucket's default key applies.
	KMSKeyID string
}

// Put stores a backup named name under dir (a directory or S3 prefix) and
// returns where it went. An existing object is never overwritten.
func (s *Store) Put(ctx context.Context, dir Location, name string, data []byte) (Location, error) {
	if !dir.IsS3() {
		if err := os.MkdirAll(dir.Key, 0o700); err != nil {
			return Location{}, fmt.Errorf("create backup directory: %w", err)
		}
		path := filepath.Join(dir.Key, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return Location{}, fmt.Errorf("create backup file: %w", err)
		}
		if _, err := f.Write(data); err != nil {
			_ = f.Close()
			_ = os.Remove(path)
			return Location{}, fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return Location{}, fmt.Errorf("sync %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return Location{}, fmt.Errorf("close %s: %w", path, err)
		}
		return Location{Key: path}, nil
	}
	if s.S3 == nil {
		return Location{}, errors.New("no S3 client")
	}
	key := joinKey(dir.Key, name)
	in := &s3.PutObjectInput{
		Bucket:               aws.String(dir.Bucket),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(data),
		ContentLength:        aws.Int64(int64(len(data))),
		ContentType:          aws.String("application/gzip"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms,
		IfNoneMatch:          aws.String("*"),
	}
	if s.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.KMSKeyID)
	}
	if _, err := s.S3.PutObject(ctx, in); err != nil {
		return Location{}, fmt.Errorf("upload s3://%s/%s: %w", dir.Bucket, key, err)
	}
	return Location{Bucket: dir.Bucket, Key: key}, nil
}

// Get reads a whole backup (at most MaxSize bytes).
func (s *Store) Get(ctx context.Context, loc Location) ([]byte, error) {
	var r io.ReadCloser
	if !loc.IsS3() {
		f, err := os.Open(loc.Key)
		if err != nil {
			return nil, fmt.Errorf("open backup: %w", err)
		}
		r = f
	} else {
		if s.S3 == nil {
			return nil, errors.New("no S3 client")
		}
		if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
			return nil, fmt.Errorf("%s names no backup object (use `backup list` to find one)", loc)
		}
		out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
		if err != nil {
			return nil, fmt.Errorf("download %s: %w", loc, err)
		}
		r = out.Body
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", loc, MaxSize)
	}
	return b, nil
}

// Entry is one listed backup.
type Entry struct {
	Location Location
	Database string
	Time     time.Time
	Size     int64
}

// List returns the backups under dir, newest first. Objects whose names are not
// backup names are left out.
func (s *Store) List(ctx context.Context, dir Location) ([]Entry, error) {
	var out []Entry
	if !dir.IsS3() {
		des, err := os.ReadDir(dir.Key)
		if err != nil {
			return nil, fmt.Errorf("list backups: %w", err)
		}
		for _, de := range des {
			db, t, ok := ParseName(de.Name())
			if !ok || !de.Type().IsRegular() {
				continue
			}
			info, err := de.Info()
			if err != nil {
				return nil, fmt.Errorf("list backups: %w", err)
			}
			out = append(out, Entry{Location: Location{Key: filepath.Join(dir.Key, de.Name())}, Database: db, Time: t, Size: info.Size()})
		}
	} else {
		if s.S3 == nil {
			return nil, errors.New("no S3 client")
		}
		prefix := dir.Key
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(dir.Bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list s3://%s/%s: %w", dir.Bucket, prefix, err)
			}
			for _, o := range page.Contents {
				key := aws.ToString(o.Key)
				db, t, ok := ParseName(key)
				if !ok {
					continue
				}
				out = append(out, Entry{Location: Location{Bucket: dir.Bucket, Key: key}, Database: db, Time: t, Size: aws.ToInt64(o.Size)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.After(out[j].Time)
		}
		return out[i].Location.Key > out[j].Location.Key
	})
	return out, nil
}

func joinKey(prefix, name string) string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}
