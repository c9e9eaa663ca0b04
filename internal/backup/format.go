// Package backup dumps the orders database into one self-verifying file and
// restores it: a gzip'd stream of lines, the first a manifest (format, source
// database, time, collections with their document counts, SHA-256 of the data
// lines), every other line one document as canonical MongoDB Extended JSON.
// A restore checks the whole file against its manifest before it writes
// anything, so a truncated or corrupted backup changes nothing.
package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Format names this file layout; a restore refuses any other.
const Format = "orders-backup/v1"

// Ext ends every backup's name.
const Ext = ".jsonl.gz"

// MaxSize bounds what a restore reads (compressed and uncompressed): the orders
// database is small; a larger input is not a backup of it.
const MaxSize = 1 << 30

// Manifest is the first line of a backup.
type Manifest struct {
	Format   string    `json:"format"`
	Database string    `json:"database"`
	Created  time.Time `json:"created"`
	// Collections maps each dumped collection to its number of documents.
	Collections map[string]int `json:"collections"`
	// Documents is the total number of document lines.
	Documents int `json:"documents"`
	// SHA256 is the hex SHA-256 of every byte after the manifest line.
	SHA256 string `json:"sha256"`
}

// Document is one document of a collection.
type Document struct {
	Collection string
	Doc        bson.Raw
}

// line is how a document is written: {"c": <collection>, "d": <document>}.
type line struct {
	C string   `bson:"c"`
	D bson.Raw `bson:"d"`
}

// Name is the file name of a backup of database taken at t (UTC).
func Name(database string, t time.Time) string {
	return database + "-" + t.UTC().Format("20060102T150405Z") + Ext
}

var nameRE = regexp.MustCompile(`(?:^|/)([^/]+)-(\d{8}T\d{6}Z)` + regexp.QuoteMeta(Ext) + `$`)

// ParseName returns the database and time a backup's name (or key) carries.
func ParseName(name string) (database string, t time.Time, ok bool) {
	m := nameRE.FindStringSubmatch(name)
	if m == nil {
		return "", time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", m[2])
	if err != nil {
		return "", time.Time{}, false
	}
	return m[1], t, true
}

// Encode writes a backup of docs (in the given order) to w.
func Encode(w io.Writer, database string, created time.Time, docs []Document) (*Manifest, error) {
	var data bytes.Buffer
	m := &Manifest{Format: Format, Database: database, Created: created.UTC().Truncate(time.Second), Collections: map[string]int{}}
	for _, d := range docs {
		b, err := bson.MarshalExtJSON(line{C: d.Collection, D: d.Doc}, true, false)
		if err != nil {
			return nil, fmt.Errorf("encode a document of %s as Extended JSON: %w", d.Collection, err)
		}
		data.Write(b)
		data.WriteByte('\n')
		m.Collections[d.Collection]++
		m.Documents++
	}
	sum := sha256.Sum256(data.Bytes())
	m.SHA256 = hex.EncodeToString(sum[:])
	head, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	zw := gzip.NewWriter(w)
	zw.Name = Name(database, m.Created)
	zw.ModTime = m.Created
	for _, b := range [][]byte{head, {'\n'}, data.Bytes()} {
		if _, err := zw.Write(b); err != nil {
			return nil, fmt.Errorf("write backup: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write backup: %w", err)
	}
	return m, nil
}

// ErrCorrupt marks a backup that does not match its manifest or is not a backup.
var ErrCorrupt = errors.New("backup is corrupt or incomplete")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Decode reads a whole backup and verifies it against its manifest: format,
// gzip integrity, SHA-256 of the data, per-collection counts, and that every
// line is canonical Extended JSON of a document. Nothing is returned unless
// all of it holds.
func Decode(r io.Reader) (*Manifest, []Document, error) {
	zr, err := gzip.NewReader(io.LimitReader(r, MaxSize))
	if err != nil {
		return nil, nil, corrupt("not a gzip file: %v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, MaxSize+1))
	if err != nil {
		return nil, nil, corrupt("decompress: %v (truncated or damaged file)", err)
	}
	if len(raw) > MaxSize {
		return nil, nil, corrupt("larger than %d bytes uncompressed", MaxSize)
	}
	head, data, found := bytes.Cut(raw, []byte{'\n'})
	if !found {
		return nil, nil, corrupt("no manifest line")
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(head))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, corrupt("manifest: %v", err)
	}
	if m.Format != Format {
		return nil, nil, corrupt("format %q, want %q", m.Format, Format)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return nil, nil, corrupt("SHA-256 of the data is %s, the manifest says %s", got, m.SHA256)
	}
	counts := map[string]int{}
	var docs []Document
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 32<<20)
	for n := 1; sc.Scan(); n++ {
		var l line
		if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &l); err != nil {
			return nil, nil, corrupt("line %d: %v", n+1, err)
		}
		if l.C == "" || l.D == nil {
			return nil, nil, corrupt("line %d: no collection or document", n+1)
		}
		counts[l.C]++
		docs = append(docs, Document{Collection: l.C, Doc: l.D})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, corrupt("read lines: %v", err)
	}
	if len(docs) != m.Documents {
		return nil, nil, corrupt("%d documents, the manifest says %d", len(docs), m.Documents)
	}
	names := make([]string, 0, len(counts)+len(m.Collections))
	for c := range m.Collections {
		names = append(names, c)
	}
	for c := range counts {
		if _, ok := m.Collections[c]; !ok {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	for _, c := range names {
		if counts[c] != m.Collections[c] {
			return nil, nil, corrupt("collection %s has %d documents, the manifest says %d", c, counts[c], m.Collections[c])
		}
	}
	return &m, docs, nil
}
