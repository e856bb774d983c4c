package main

import (
	"bytes"
	"io"
	"ipflow/internal/estategen"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// bigEstate writes the generated 10,000-VM estate (2000 NSGs of 50 rules) into the test's
// temporary folder (removed after it).
func bigEstate(tb testing.TB) string {
	path := filepath.Join(tb.TempDir(), "estate.toml")
	if err := os.WriteFile(path, estategen.Large(10000, 2000, 50), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// firstFrame starts the UI in a pseudo-terminal (script(1)) on the 10,000-VM estate and
// returns the time from starting the process to the loading screen's first bytes on the
// terminal. script's own start-up is included, so the number is an upper bound.
func firstFrame(tb testing.TB, bin, estate string) time.Duration {
	return firstOutput(tb, bin+" -f "+estate, "loading the estate")
}

// firstOutput runs a command line in script(1) and returns the time until want is written.
func firstOutput(tb testing.TB, cmdline, want string) time.Duration {
	cmd := exec.Command("script", "-qfec", cmdline, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	var seen []byte
	buf := make([]byte, 4096)
	for {
		n, err := out.Read(buf)
		seen = append(seen, buf[:n]...)
		if bytes.Contains(seen, []byte(want)) {
			return time.Since(start)
		}
		if err == io.EOF || err != nil || time.Since(start) > 10*time.Second {
			tb.Fatalf("no loading screen after %v (err %v): %q", time.Since(start), err, seen)
		}
	}
}

// The first frame comes within 100 ms of the process start on the 10,000-VM estate: loading
// runs behind the loading screen. Reported as ms/first-frame.
func BenchmarkFirstFrame10kVMs(b *testing.B) {
	if _, err := exec.LookPath("script"); err != nil {
		b.Skip("script(1) not found")
	}
	bin := buildBinary(b)
	estate := bigEstate(b)
	var times, base []time.Duration
	for b.Loop() {
		times = append(times, firstFrame(b, bin, estate))
		// The same start with nothing to draw: script(1) and the process alone.
		base = append(base, firstOutput(b, bin+" version", "ipflow"))
	}
	slices.Sort(times)
	slices.Sort(base)
	// The median and the best run: on a loaded machine the scheduler adds noise to each start.
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(times[len(times)/2]), "ms-median/first-frame")
	b.ReportMetric(ms(times[0]), "ms-min/first-frame")
	b.ReportMetric(ms(base[len(base)/2]), "ms-median/version")
}
