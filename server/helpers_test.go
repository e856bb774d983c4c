package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/ssh"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a server on a random loopback port with one authorised user key.
type harness struct {
	srv    *Server
	cfg    Config
	addr   string
	dir    string
	user   gossh.Signer
	audit  *syncBuffer
	logs   *syncBuffer
	served chan error
	stopFn func()
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authorizedLine(s gossh.Signer) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey()))) + " tester@example\n"
}

// start runs a server in a temporary directory; edit changes the configuration first.
func start(t testing.TB, edit ...func(*Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{dir: dir, user: newSigner(t), audit: &syncBuffer{}, logs: &syncBuffer{}}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte("# the team\n"+authorizedLine(h.user)), 0o600); err != nil {
		t.Fatal(err)
	}
	h.cfg = Config{
		Listen:         "127.0.0.1:0",
		AuthorizedKeys: keys,
		HostKey:        filepath.Join(dir, "hostkey", "ssh_host_ed25519_key"),
		MaxSessions:    64,
		IdleTimeout:    time.Minute,
		Audit:          h.audit,
		Log:            slog.New(slog.NewTextHandler(h.logs, nil)),
		Run:            testRunner,
		Commands:       []string{"verify", "cat", "wait", "deaf", "panic", "version"},
		Poll:           20 * time.Millisecond,
		Notice:         100 * time.Millisecond,
	}
	for _, e := range edit {
		e(&h.cfg)
	}
	h.run(t)
	return h
}

// run starts (or restarts) the server with h.cfg.
func (h *harness) run(t testing.TB) {
	t.Helper()
	srv, err := New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	h.srv, h.addr, h.served = srv, addr.String(), served
	go func() { served <- srv.Serve() }()
	var once sync.Once
	h.stopFn = func() { once.Do(func() { stopServer(t, srv, served) }) }
	t.Cleanup(h.stopFn)
}

func (h *harness) stop(testing.TB) { h.stopFn() }

func stopServer(t testing.TB, srv *Server, served chan error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(6 * time.Second):
		t.Error("Serve did not return after Shutdown")
	}
}

// dial connects with the given auth methods; hostKey, if set, receives the server's key.
func (h *harness) dial(auth []gossh.AuthMethod, hostKey *gossh.PublicKey) (*gossh.Client, error) {
	cfg := &gossh.ClientConfig{
		User: "tester",
		Auth: auth,
		HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
			if hostKey != nil {
				*hostKey = k
			}
			return nil
		},
		Timeout: 5 * time.Second,
	}
	return gossh.Dial("tcp", h.addr, cfg)
}

func (h *harness) client(t testing.TB) *gossh.Client {
	t.Helper()
	c, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(h.user)}, nil)
	if err != nil {
		t.Fatalf("authorised key refused: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// exec runs a command session and returns its output and exit status.
func (h *harness) exec(t testing.TB, c *gossh.Client, cmd, stdin string) (stdout, stderr string, code int) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &out, &errb, strings.NewReader(stdin)
	err = sess.Run(cmd)
	return out.String(), errb.String(), exitCode(t, err)
}

func exitCode(t testing.TB, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if e, ok := err.(*gossh.ExitError); ok {
		return e.ExitStatus()
	}
	t.Fatalf("session did not end with an exit status: %v", err)
	return -1
}

// ui is an interactive session: a pty of w×h and a shell request.
type ui struct {
	sess  *gossh.Session
	in    io.WriteCloser
	out   *syncBuffer
	errb  *syncBuffer
	ended chan error
}

func (h *harness) openUI(t testing.TB, c *gossh.Client, w, ht int, env map[string]string) *ui {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatalf("setenv %s: %v", k, err)
		}
	}
	if err := sess.RequestPty("xterm-256color", ht, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	u := &ui{sess: sess, out: &syncBuffer{}, errb: &syncBuffer{}, ended: make(chan error, 1)}
	sess.Stdout, sess.Stderr = u.out, u.errb
	if u.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { u.ended <- sess.Wait() }()
	t.Cleanup(func() { sess.Close() })
	return u
}

// waitFor waits until the screen output (escape codes stripped) shows want.
func (u *ui) waitFor(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(ansi.Strip(u.out.String()), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the UI never showed %q; it showed:\n%s\nstderr: %s", want, ansi.Strip(u.out.String()), u.errb.String())
}

// wait waits for the session to end and returns its exit status.
func (u *ui) wait(t testing.TB) int {
	t.Helper()
	select {
	case err := <-u.ended:
		return exitCode(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	return -1
}

// testRunner stands in for cmd/ipflow's subcommands (the real ones are tested over SSH in
// cmd/ipflow): verify reads "VM DIR PROTO LOCAL REMOTE" from its arguments or, with "-",
// one line of standard input; cat echoes standard input; wait blocks until its context ends or
// standard input closes; deaf blocks until standard input closes, ignoring its context; panic
// panics.
func testRunner(ctx context.Context, c Command) int {
	switch c.Args[0] {
	case "verify":
		fields := c.Args[1:]
		if len(fields) == 1 && fields[0] == "-" {
			line, _ := bufio.NewReader(c.Stdin).ReadString('\n')
			fields = strings.Fields(line)
		}
		f, err := parseTestFlow(fields)
		if err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 2
		}
		res, err := c.Engine.Verify(f)
		if err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 2
		}
		c.Verdict(res)
		fmt.Fprintf(c.Stdout, "%s %s\n", res.Access, res.RuleName())
		return 0
	case "cat":
		_, err := io.Copy(c.Stdout, c.Stdin)
		if err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 1
		}
		return 0
	case "wait":
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, c.Stdin); close(done) }()
		select {
		case <-ctx.Done():
		case <-done:
		}
		return 0
	case "deaf": // reads standard input to its end, whatever its context says
		io.Copy(io.Discard, c.Stdin)
		return 0
	case "panic":
		panic("boom")
	}
	fmt.Fprintln(c.Stdout, "ran", c.Args[0])
	return 0
}

func parseTestFlow(f []string) (engine.Flow, error) {
	if len(f) != 5 {
		return engine.Flow{}, fmt.Errorf("want VM DIR PROTO LOCAL REMOTE, got %q", f)
	}
	dir, err := model.ParseDirection(f[1])
	if err != nil {
		return engine.Flow{}, err
	}
	proto, err := model.ParseFlowProtocol(f[2])
	if err != nil {
		return engine.Flow{}, err
	}
	la, lp, err := engine.ParseEndpoint(f[3])
	if err != nil {
		return engine.Flow{}, err
	}
	ra, rp, err := engine.ParseEndpoint(f[4])
	if err != nil {
		return engine.Flow{}, err
	}
	return engine.Flow{VM: f[0], Direction: dir, Protocol: proto, LocalIP: la, LocalPort: lp, RemoteIP: ra, RemotePort: rp}, nil
}

// sampleEngine is the embedded sample, compiled: the reference answers are computed on it.
func sampleEngine(t testing.TB) *engine.Engine {
	t.Helper()
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Compile(env)
}

func windowOf(w, h int) ssh.Window { return ssh.Window{Width: w, Height: h} }
