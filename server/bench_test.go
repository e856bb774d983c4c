package server

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"ipflow/internal/estategen"
)

// clientsEnv makes this test binary a pool of idle SSH clients (see TestMain): the benchmark
// below runs them in their own process so that only the server's memory is measured.
const clientsEnv = "IPFLOW_BENCH_CLIENTS"

func TestMain(m *testing.M) {
	if spec := os.Getenv(clientsEnv); spec != "" {
		os.Exit(idleClients(spec))
	}
	os.Exit(m.Run())
}

// BenchmarkIdleUISessionMemory measures the live memory (Go heap and goroutine stacks in use,
// after a GC) that idle UI sessions add to the server: 20 on the sample, 100 on the generated
// 10,000-VM estate. The clients run in another process; each session has drawn its first frame.
//
//	go test -run '^$' -bench IdleUISessionMemory -benchtime 1x ./server
func BenchmarkIdleUISessionMemory(b *testing.B) {
	b.Run("sample/20", func(b *testing.B) { idleMemory(b, nil, 20, "contoso-westeurope", 2*20) })
	b.Run("10kVMs/100", func(b *testing.B) {
		est := filepath.Join(b.TempDir(), "large.toml")
		if err := os.WriteFile(est, estategen.Large(10000, 2000, 50), 0o644); err != nil {
			b.Fatal(err)
		}
		idleMemory(b, []string{est}, 100, "10000 VMs", 200)
	})
}

func liveMB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse+ms.StackInuse) / (1 << 20)
}

func idleMemory(b *testing.B, fixtures []string, n int, firstFrame string, boundMB float64) {
	for range b.N {
		h := start(b, func(c *Config) { c.Fixtures, c.MaxSessions = fixtures, n })
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		block, _ := gossh.MarshalPrivateKey(priv, "bench")
		keyFile := filepath.Join(h.dir, "bench_key")
		os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
		signer, _ := gossh.NewSignerFromKey(priv)
		keys, _ := os.ReadFile(h.cfg.AuthorizedKeys)
		os.WriteFile(h.cfg.AuthorizedKeys, append(keys, authorizedLine(signer)...), 0o600)

		estate := liveMB()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), clientsEnv+"="+strings.Join([]string{h.addr, strconv.Itoa(n), keyFile, firstFrame}, "|"))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "ready\n" {
			cmd.Process.Kill()
			b.Fatalf("clients: %q", line)
		}
		if open := h.srv.Sessions(); open != n {
			b.Fatalf("%d sessions open, want %d", open, n)
		}
		with := liveMB()
		stdin.Close()
		cmd.Wait()
		b.ReportMetric(estate, "MB-live-estate")
		b.ReportMetric(with, "MB-live-with-sessions")
		b.ReportMetric((with-estate)/float64(n), "MB/session")
		if with-estate > boundMB {
			b.Errorf("%d idle sessions added %.1f MB, more than %.0f MB", n, with-estate, boundMB)
		}
	}
}

// idleClients opens n UI sessions (one connection each), waits for every first frame, says
// "ready", and holds them until its standard input closes.
func idleClients(spec string) int {
	f := strings.Split(spec, "|")
	addr, keyFile, firstFrame := f[0], f[2], f[3]
	n, _ := strconv.Atoi(f[1])
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	signer, err := gossh.ParsePrivateKey(pemBytes)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
				HostKeyCallback: gossh.InsecureIgnoreHostKey()})
			if err != nil {
				errs <- err
				return
			}
			sess, err := c.NewSession()
			if err != nil {
				errs <- err
				return
			}
			out := &syncBuffer{}
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
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	time.Sleep(500 * time.Millisecond) // let the servers' first-frame work settle
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}
