// Package docrules keeps the documentation honest about the repository: every
// relative link in a Markdown file must point at a file or folder that exists,
// and every #anchor at a heading of the target page. The security checklist, the
// runbooks and the deployment steps point at code; a rename must not leave them
// pointing at nothing.
package docrules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// Link is one link of a Markdown file.
type Link struct {
	File   string // the Markdown file, relative to the root
	Line   int
	Target string // as written
}

func (l Link) String() string { return fmt.Sprintf("%s:%d: %s", l.File, l.Line, l.Target) }

// Inline links [text](target) and reference definitions "[x]: target".
var (
	inlineLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refLink    = regexp.MustCompile(`^\s*\[[^\]]+\]:\s*(\S+)`)
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	fence      = regexp.MustCompile("^\\s*(```|~~~)")
	htmlAnchor = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	linkInText = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// Links lists the links of a Markdown document outside fenced code blocks.
func Links(file string, md []byte) []Link {
	var out []Link
	inFence := false
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		line = stripCodeSpans(line)
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, Link{File: file, Line: n, Target: m[1]})
		}
		if m := refLink.FindStringSubmatch(line); m != nil {
			out = append(out, Link{File: file, Line: n, Target: m[1]})
		}
	}
	return out
}

// stripCodeSpans removes `code` so that example syntax in code is not read as a link.
func stripCodeSpans(line string) string {
	var b strings.Builder
	in := false
	for _, r := range line {
		if r == '`' {
			in = !in
			continue
		}
		if !in {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Anchors are the anchors GitHub generates for a document's headings (lower case,
// punctuation dropped, spaces to hyphens, repeats numbered -1, -2, …) plus
// explicit <a name|id="…"> anchors.
func Anchors(md []byte) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			anchors[m[1]] = true
		}
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := Slug(m[2])
		if n := seen[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

// Slug is GitHub's anchor for a heading text.
func Slug(text string) string {
	text = strings.ReplaceAll(strings.TrimSpace(text), "`", "")
	// Link text stays, the target goes: [x](y) -> x.
	text = linkInText.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// CheckLinks returns the links of the Markdown files (relative to root) that point
// at nothing: a missing file or folder, or a missing heading anchor. External
// links (with a scheme) and mailto are not checked.
func CheckLinks(root string, files []string) ([]string, error) {
	var broken []string
	for _, f := range files {
		md, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		for _, l := range Links(f, md) {
			if problem := checkLink(root, l, md); problem != "" {
				broken = append(broken, l.String()+": "+problem)
			}
		}
	}
	return broken, nil
}

func checkLink(root string, l Link, self []byte) string {
	t := l.Target
	if strings.Contains(t, "://") || strings.HasPrefix(t, "mailto:") {
		return ""
	}
	path, anchor, _ := strings.Cut(t, "#")
	target := filepath.Join(root, filepath.Dir(l.File), filepath.FromSlash(path))
	if path == "" {
		if anchor != "" && !Anchors(self)[anchor] {
			return fmt.Sprintf("no heading for #%s in this file", anchor)
		}
		return ""
	}
	rel, err := filepath.Rel(root, target)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "points outside the repository"
	}
	st, err := os.Stat(target)
	if err != nil {
		return "no such file or folder " + filepath.ToSlash(rel)
	}
	if anchor == "" || st.IsDir() || !strings.HasSuffix(target, ".md") {
		return ""
	}
	md, err := os.ReadFile(target)
	if err != nil {
		return err.Error()
	}
	if !Anchors(md)[anchor] {
		return fmt.Sprintf("no heading for #%s in %s", anchor, filepath.ToSlash(rel))
	}
	return ""
}

// MarkdownFiles lists the repository's Markdown files, relative to root, skipping
// dependencies and generated folders.
func MarkdownFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "bin", "testdata", "internal_dagger", "dagger":
				if p != root {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// sampleMarker introduces a fenced block whose content a test reproduces:
// <!-- sample: NAME (free text) -->, then the block.
var sampleMarker = regexp.MustCompile(`^<!-- sample: ([^(>]+?)\s*(\(.*\))?\s*-->$`)

// Sample returns the content of the fenced block that follows the marker
// `<!-- sample: name … -->` in a Markdown document.
func Sample(md []byte, name string) (string, error) {
	lines := strings.Split(string(md), "\n")
	for i, line := range lines {
		m := sampleMarker.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[1] != name {
			continue
		}
		if i+1 >= len(lines) || !fence.MatchString(lines[i+1]) {
			return "", fmt.Errorf("sample %q: no fenced block right after its marker (line %d)", name, i+1)
		}
		var body []string
		for _, l := range lines[i+2:] {
			if fence.MatchString(l) {
				return strings.Join(body, "\n") + "\n", nil
			}
			body = append(body, l)
		}
		return "", fmt.Errorf("sample %q: its block is never closed", name)
	}
	return "", fmt.Errorf("no sample %q (a line <!-- sample: %s -->)", name, name)
}
