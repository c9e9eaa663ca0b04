package localrun

import "testing"

func TestTailKeepsTheLastLines(t *testing.T) {
	l := &tail{max: 3}
	for _, w := range []string{"a\n", "b\nc\n", "d\n", "e"} {
		if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if got, want := l.String(), "c\nd\ne"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}
