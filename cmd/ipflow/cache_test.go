package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipflow/internal/estategen"
)

// TestMain gives the binaries that tests run a cache directory of their own: no test reads or
// writes the user's snapshot cache. (Go's build cache stays where it is: it defaults to a
// folder in the same directory.)
func TestMain(m *testing.M) {
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		os.Setenv("GOCACHE", strings.TrimSpace(string(out)))
	}
	dir, err := os.MkdirTemp("", "ipflow-test-cache")
	if err == nil {
		os.Setenv("XDG_CACHE_HOME", dir)
	}
	code := m.Run()
	if err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func TestWithoutNoCache(t *testing.T) {
	for _, c := range []struct {
		in, want []string
		noCache  bool
	}{
		{[]string{"verify", "--vm", "x"}, []string{"verify", "--vm", "x"}, false},
		{[]string{"--no-cache", "verify", "--vm", "x"}, []string{"verify", "--vm", "x"}, true},
		{[]string{"check", "-f", "a", "-no-cache"}, []string{"check", "-f", "a"}, true},
		{[]string{"test", "--", "--no-cache"}, []string{"test", "--", "--no-cache"}, false},
	} {
		got, noCache := withoutNoCache(c.in)
		if !slices.Equal(got, c.want) || noCache != c.noCache {
			t.Errorf("%v: %v %v", c.in, got, noCache)
		}
	}
}

// The snapshot cache through the real binary: a first run stores a snapshot (0600 in a 0700
// directory), a second reads it (the same file, not rewritten), a corrupt one is rebuilt, and
// --no-cache neither reads nor writes; every run gives the same answer.
func TestSnapshotCacheEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	estate := filepath.Join(dir, "estate.toml")
	if err := os.WriteFile(estate, estategen.Large(1500, 60, 20), 0o644); err != nil {
		t.Fatal(err)
	}
	cacheHome := filepath.Join(dir, "cache")
	cacheDir := filepath.Join(cacheHome, "ipflow")
	runBin := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return string(out)
	}
	verify := []string{"verify", "-f", estate, "--vm", "vm-7", "--direction", "inbound", "--protocol", "tcp", "--local", "10.1.0.11:443", "--remote", "13.107.21.200:60000", "-o", "json"}
	snapshots := func() []string {
		entries, _ := os.ReadDir(cacheDir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}

	noCache := runBin(append([]string{"--no-cache"}, verify...)...)
	if !strings.HasPrefix(noCache, `{"access":`) {
		t.Fatalf("output %.200s", noCache)
	}
	if s := snapshots(); len(s) != 0 {
		t.Fatalf("--no-cache wrote %v", s)
	}
	if got := runBin(verify...); got != noCache {
		t.Fatalf("cold run differs:\n%s\n%s", got, noCache)
	}
	s := snapshots()
	if len(s) != 1 {
		t.Fatalf("cache holds %v", s)
	}
	path := filepath.Join(cacheDir, s[0])
	di, _ := os.Stat(cacheDir)
	fi, _ := os.Stat(path)
	if di.Mode().Perm() != 0o700 || fi.Mode().Perm() != 0o600 {
		t.Errorf("modes: dir %v, snapshot %v", di.Mode(), fi.Mode())
	}
	good, _ := os.ReadFile(path)

	// Warm: the snapshot is read, not rewritten (the same file).
	if got := runBin(verify...); got != noCache {
		t.Fatalf("warm run differs")
	}
	if fi2, _ := os.Stat(path); !os.SameFile(fi, fi2) {
		t.Error("a warm run rewrote the snapshot")
	}
	if got := runBin("check", "-f", estate); !strings.Contains(got, "1500 VMs") {
		t.Errorf("check from the snapshot: %s", got)
	}

	// Corrupt: rebuilt, same answer.
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x20
	os.WriteFile(path, bad, 0o600)
	if got := runBin(verify...); got != noCache {
		t.Fatalf("run with a corrupt snapshot differs")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
		t.Error("the corrupt snapshot was not rebuilt")
	}

	// A changed estate is another snapshot (the old one is kept for a while, unused).
	os.WriteFile(estate, estategen.Large(1500, 60, 21), 0o644)
	if got := runBin(verify...); got == "" {
		t.Fatal("no output")
	}
	if s := snapshots(); len(s) != 2 {
		t.Errorf("after a change, the cache holds %v", s)
	}
}

// BenchmarkProcessVerify10k is start-to-verdict of the whole process on the 10,000-VM estate
// (21 MB of TOML): cold (--no-cache, and with an empty cache: load and store the snapshot) and
// warm (from the snapshot), with the peak RSS of each run.
func BenchmarkProcessVerify10k(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	estate := filepath.Join(dir, "estate.toml")
	if err := os.WriteFile(estate, estategen.Large(10000, 2000, 50), 0o644); err != nil {
		b.Fatal(err)
	}
	cacheHome := filepath.Join(dir, "cache")
	args := []string{"verify", "-f", estate, "--vm", "vm-7", "--direction", "inbound", "--protocol", "tcp", "--local", "10.1.0.11:443", "--remote", "13.107.21.200:60000"}
	// run returns the time to the verdict's first byte on stdout, to the process's exit, and
	// its peak RSS (a cold run stores the snapshot after printing the verdict).
	run := func(b *testing.B, extra ...string) (verdict, exit time.Duration, rss int64) {
		cmd := exec.Command(bin, append(extra, args...)...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		first := make([]byte, 1)
		if _, err := io.ReadFull(stdout, first); err != nil {
			b.Fatal(err)
		}
		verdict = time.Since(start)
		rest, _ := io.ReadAll(stdout)
		err = cmd.Wait()
		exit = time.Since(start)
		if out := append(first, rest...); err != nil || !bytes.HasPrefix(out, []byte("Access ")) {
			b.Fatalf("%v: %s", err, out)
		}
		return verdict, exit, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	}
	for _, c := range []struct {
		name   string
		before func()
		extra  []string
	}{
		{"cold-no-cache", func() {}, []string{"--no-cache"}},
		{"cold-store", func() { os.RemoveAll(cacheHome) }, nil},
		{"warm", func() {}, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			run(b) // a warm snapshot for "warm"; the binary and estate in the page cache
			var toVerdict, toExit time.Duration
			var rss int64
			n := 0
			for b.Loop() {
				b.StopTimer()
				c.before()
				b.StartTimer()
				v, e, r := run(b, c.extra...)
				toVerdict, toExit = toVerdict+v, toExit+e
				rss = max(rss, r)
				n++
			}
			b.ReportMetric(float64(toVerdict.Milliseconds())/float64(n), "ms-to-verdict")
			b.ReportMetric(float64(toExit.Milliseconds())/float64(n), "ms/run")
			b.ReportMetric(float64(rss)/1e6, "peak-RSS-MB")
		})
	}
}
