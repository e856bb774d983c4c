package main

import (
	"bufio"
	"bytes"
	"fmt"
	"ipflow/internal/estategen"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

// BenchmarkServeIdleSessionMemory measures what idle UI sessions add to a served process's
// resident memory: 20 sessions on the sample, 100 on the generated 10,000-VM estate. The
// server runs as its own process (the clients' memory is not counted); each session has drawn
// its first frame before the measurement.
//
//	go test -run '^$' -bench ServeIdleSessionMemory -benchtime 1x ./cmd/ipflow
func BenchmarkServeIdleSessionMemory(b *testing.B) {
	bin := buildBinary(b)
	// The bounds: at most 2 MB per idle session on the sample; at most 200 MB for 100 sessions
	// above the estate's own footprint on the 10,000-VM estate.
	b.Run("sample/20", func(b *testing.B) { serveMemory(b, bin, "", 20, "contoso-westeurope", 2*20) })
	b.Run("10kVMs/100", func(b *testing.B) {
		est := filepath.Join(b.TempDir(), "large.toml")
		if err := os.WriteFile(est, estategen.Large(10000, 2000, 50), 0o644); err != nil {
			b.Fatal(err)
		}
		serveMemory(b, bin, est, 100, "10000 VMs", 200)
	})
}

func serveMemory(b *testing.B, bin, estate string, n int, firstFrame string, boundMB float64) {
	for range b.N {
		dir := b.TempDir()
		signer, _, auth := userKey(b, dir)
		args := []string{"serve", "--listen", "127.0.0.1:0", "--authorized-keys", auth, "--host-key", filepath.Join(dir, "hk"), "--max-sessions", strconv.Itoa(n)}
		if estate != "" {
			args = append(args, "-f", estate)
		}
		srv := exec.Command(bin, args...)
		log := &lockedBuffer{}
		srv.Stdout, srv.Stderr = log, log
		if err := srv.Start(); err != nil {
			b.Fatal(err)
		}
		port := waitLog(b, log, regexp.MustCompile(`msg=listening address=127\.0\.0\.1:(\d+)`))[1]
		time.Sleep(500 * time.Millisecond) // let the load's garbage go
		base := rssMB(b, srv.Process.Pid)

		var clients []*gossh.Client
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := gossh.Dial("tcp", "127.0.0.1:"+port, &gossh.ClientConfig{User: "bench",
					Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.InsecureIgnoreHostKey()})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				clients = append(clients, c)
				mu.Unlock()
				sess, err := c.NewSession()
				if err != nil {
					errs <- err
					return
				}
				out := &lockedBuffer{}
				sess.Stdout = out
				if _, err := sess.StdinPipe(); err != nil {
					errs <- err
					return
				}
				if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
					errs <- err
					return
				}
				if err := sess.Shell(); err != nil {
					errs <- err
					return
				}
				deadline := time.Now().Add(60 * time.Second)
				for !strings.Contains(ansi.Strip(out.String()), firstFrame) {
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("no first frame: %q", ansi.Strip(out.String()))
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		time.Sleep(time.Second)
		with := rssMB(b, srv.Process.Pid)
		for _, c := range clients {
			c.Close()
		}
		srv.Process.Kill()
		srv.Wait()
		b.ReportMetric(base, "MB-estate-rss")
		b.ReportMetric(with, "MB-rss-with-sessions")
		b.ReportMetric((with-base)/float64(n), "MB/session")
		if with-base > boundMB {
			b.Errorf("%d idle sessions added %.1f MB, more than %.0f MB", n, with-base, boundMB)
		}
	}
}

// rssMB is a process's resident set in MB, from /proc.
func rssMB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func waitLog(b *testing.B, log *lockedBuffer, re *regexp.Regexp) []string {
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("the server log never matched %s:\n%s", re, log.String())
	return nil
}
