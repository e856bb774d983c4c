package model

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadErrors loads text as env.toml and returns its errors as strings (nil when it loads).
func loadErrors(t *testing.T, text string) []string {
	t.Helper()
	_, err := Load(Source{Name: "env.toml", Data: []byte(text)})
	if err == nil {
		return nil
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T: %v", err, err)
	}
	return issueStrings(le.Errors)
}

// TestDepthLimit: nesting deeper than 32 levels (headers, dotted keys, arrays, inline tables, in
// any mix) is one error with its line, found before the TOML decoder runs.
func TestDepthLimit(t *testing.T) {
	const msg = "nested more than 32 levels deep (tables, dotted keys, arrays and inline tables together); a fixture needs about 6"
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for name, c := range map[string]struct {
		text string
		line int // 0: loads past the depth check
	}{
		"inline tables 10,000 deep":                     {"# x\nx = " + deep("{a=", "}", 10000) + "\n", 2},
		"dotted keys 10,000 deep":                       {strings.Repeat("a.", 10000) + "a = 1\n", 1},
		"arrays 10,000 deep":                            {"\n\nx = " + deep("[", "]", 10000) + "\n", 3},
		"a header 40 deep":                              {"[" + strings.Repeat("a.", 39) + "a]\n", 1},
		"a mix: 10 + 10 + 13":                           {"[" + strings.Repeat("h.", 9) + "h]\n" + strings.Repeat("k.", 9) + "k = " + deep("[", "]", 13) + "\n", 2},
		"32 levels load":                                {"x = " + deep("[", "]", 31) + "\n", 0},
		"brackets in strings and comments do not count": {"x = \"" + strings.Repeat("[{.", 100) + "\" # " + strings.Repeat("[", 100) + "\ny = '''\n" + strings.Repeat("{", 100) + "'''\n", 0},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			errs := loadErrors(t, c.text)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			depthErr := len(errs) > 0 && strings.Contains(errs[0], "nested more than")
			switch {
			case c.line == 0 && depthErr:
				t.Errorf("refused: %v", errs)
			case c.line > 0 && (len(errs) != 1 || errs[0] != "env.toml:"+itoa(c.line)+": "+msg):
				t.Errorf("errors: %q", errs)
			}
		})
	}
}

func itoa(n int) string { return formatCount(n) }

// TestReadFileKinds: only regular files are read, and only up to the limit, each refusal naming
// the file and saying why, before reading anything.
func TestReadFileKinds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		max  int64
		want string
	}{
		{fifo, 0, "it is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", 0, "it is a character device, not a regular file"},
		{dir, 0, "it is a directory, not a regular file"},
		{big, 1000, "4 KiB, over the 1000 bytes limit (--max-file-size raises it)"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(c.path, c.max); done <- err }()
		select {
		case err := <-done:
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != c.path || pe.Err.Error() != c.want {
				t.Errorf("%s: %v, want %q", c.path, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: hangs", c.path)
		}
	}
	if data, err := ReadFile(big, 4096); err != nil || len(data) != 4096 {
		t.Errorf("at the limit: %d bytes, %v", len(data), err)
	}
	if _, err := ReadPaths([]string{dir}, 1000); err == nil || !strings.Contains(err.Error(), "big.toml: 4 KiB, over the 1000 bytes limit") {
		t.Errorf("ReadPaths: %v", err)
	}
	for s, want := range map[string]int64{"2GiB": 2 << 30, "500M": 500 << 20, "1048576": 1 << 20, "3k": 3 << 10, "1 GB": 1 << 30} {
		if n, err := ParseBytes(s); err != nil || n != want {
			t.Errorf("ParseBytes(%q) = %d, %v", s, n, err)
		}
	}
	for _, s := range []string{"", "-1", "two", "1.5G", "99999999999T"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) accepted", s)
		}
	}
}

// TestFloodIsCapped: a file's first 200 errors are reported, then one line counts the rest by
// kind; the totals stay exact.
func TestFloodIsCapped(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		b.WriteString("[t" + formatCount(i) + "]\n")
	}
	b.WriteString("[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n")
	for i := range 300 {
		b.WriteString("[[vnet.subnet]]\nname = \"s" + formatCount(i) + "\"\nprefix = \"10.0." + formatCount(i%200) + ".0/24\"\nnsg = \"nope\"\n")
	}
	_, err := Load(Source{Name: "env.toml", Data: []byte(b.String())})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatal(err)
	}
	if len(le.Errors) != 201 || CountIssues(le.Errors) != 1000+300+100 {
		t.Fatalf("%d errors shown, %d counted", len(le.Errors), CountIssues(le.Errors))
	}
	if got := le.Errors[200].String(); got != "env.toml: … and 1,200 more errors (800 unknown keys, 300 bad references, 100 other)" {
		t.Errorf("closing line: %s", got)
	}
}

// TestLongNamesAndSuggestions: a 1 MB name and 200 references to a missing 199-character name
// are checked at once, the long names cut in every message.
func TestLongNamesAndSuggestions(t *testing.T) {
	huge := strings.Repeat("n", 1<<20)
	missing := strings.Repeat("m", 199)
	var b strings.Builder
	b.WriteString("[[nsg]]\nname = \"" + huge + "\"\n[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n")
	for i := range 200 {
		b.WriteString("[[vnet.subnet]]\nname = \"s" + formatCount(i) + "\"\nprefix = \"10.0." + formatCount(i) + ".0/24\"\nnsg = \"" + missing + "\"\n")
	}
	start := time.Now()
	_, err := Load(Source{Name: "env.toml", Data: []byte(b.String())})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if err == nil {
		t.Fatal("loaded")
	}
	text := err.Error()
	if len(text) > 200*400 {
		t.Errorf("%d bytes of errors", len(text))
	}
	if !strings.Contains(text, `no nsg named "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm…" (199 characters)`) {
		t.Errorf("missing name not cut:\n%.600s", text)
	}
	if got := QuoteName(huge); got != `"`+strings.Repeat("n", 50)+`…" (1,048,576 characters)` {
		t.Errorf("QuoteName: %s", got)
	}
	if Suggest(missing, []string{huge, missing[:198] + "x"}) != "" {
		t.Error("suggested for a name longer than any Azure name")
	}
	if close := strings.Repeat("m", 59) + "x"; Suggest(missing[:60], []string{huge, close}) != close {
		t.Error("a close 60-character name is not suggested")
	}
	if Suggest(huge, []string{huge}) != "" {
		t.Error("suggested for a 1 MB name")
	}
}

// TestIPv6OnlyWhenIPv6: only an address that is IPv6 is reported as "IPv6 is not supported yet".
func TestIPv6OnlyWhenIPv6(t *testing.T) {
	for s, want := range map[string]string{
		"10.0.0.1:80/24": `"10.0.0.1:80/24": not an IPv4 CIDR (like 10.0.0.0/16)`,
		"a:b/8":          `"a:b/8": not an IPv4 CIDR (like 10.0.0.0/16)`,
		"10.0.0.1:80":    `"10.0.0.1:80": not an IPv4 address or CIDR (like 10.0.1.4 or 10.0.0.0/16)`,
		"fd00::/8":       `"fd00::/8": IPv6 is not supported yet`,
		"fd00::/200":     `"fd00::/200": IPv6 is not supported yet`,
		"fd00::1":        `"fd00::1": IPv6 is not supported yet`,
	} {
		if _, err := ParsePrefix(s); err == nil || err.Error() != want {
			t.Errorf("ParsePrefix(%q) = %v, want %s", s, err, want)
		}
	}
}

// TestNameLengths: names longer than Azure allows are errors, cut in the message.
func TestNameLengths(t *testing.T) {
	errs := loadErrors(t, "[[vnet]]\nname = \""+strings.Repeat("v", 65)+"\"\naddress_space = [\"10.0.0.0/16\"]\n[[asg]]\nname = \""+strings.Repeat("a", 80)+"\"\n")
	want := `env.toml:2: vnet #1: name "` + strings.Repeat("v", 65) + `": 65 characters; Azure allows vnet names of at most 64`
	if len(errs) != 1 || errs[0] != want {
		t.Errorf("errors: %q", errs)
	}
}

// TestReadFileInParts: a large file is read in parts, byte for byte, and a file shorter than its
// buffer (one that shrank after Stat) gives what it holds, never a gap or stale bytes.
func TestReadFileInParts(t *testing.T) {
	dir := t.TempDir()
	want := make([]byte, parallelReadSize+12345)
	for i := range want {
		want[i] = byte(i*7 + i/251)
	}
	path := filepath.Join(dir, "large.toml")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(path, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile of %d bytes: %d bytes, equal %v, %v", len(want), len(got), bytes.Equal(got, want), err)
	}
	if _, err := ReadFile(path, int64(len(want)-1)); err == nil {
		t.Error("a large file over the limit was read")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, len(want)+3*4096)
	if got := readParts(f, buf); !bytes.Equal(got, want) {
		t.Errorf("readParts past the end: %d bytes, want the file's %d", len(got), len(want))
	}
}
