package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Connections that never finish the SSH handshake (a slowloris, a port scan, a flood of
// half-open connections) must not lock the team out: the oldest of them make way for new ones,
// and an authenticated connection is never dropped for them.
func TestHalfOpenConnectionsDoNotLockOutTheTeam(t *testing.T) {
	h := start(t, func(c *Config) { c.MaxSessions = 1 })
	before := h.client(t)
	var flood []net.Conn
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for i := range 100 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half of them start the handshake and stop
			c.Write([]byte("SSH-2.0-slow\r\n"))
		}
		flood = append(flood, c)
	}
	time.Sleep(100 * time.Millisecond) // the server has taken them all
	c, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(h.user)}, nil)
	if err != nil {
		t.Fatalf("a team member was locked out by %d half-open connections: %v", len(flood), err)
	}
	defer c.Close()
	for name, cl := range map[string]*gossh.Client{"new": c, "older": before} {
		if out, _, code := h.exec(t, cl, "version", ""); code != 0 || out != "ran version\n" {
			t.Errorf("%s connection: exit %d, %q", name, code, out)
		}
	}
	// Nothing is left counted once the flood is gone.
	for _, c := range flood {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if pending, authed := h.srv.conns.counts(); pending == 0 && authed == 2 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	pending, authed := h.srv.conns.counts()
	t.Errorf("after the flood: %d connections pending, %d authenticated; want 0 and 2", pending, authed)
}

// rawExec opens a session and starts cmd on it without ever reading its output: a client that
// has stopped reading (a stuck terminal, a hostile client).
func rawExec(t *testing.T, c *gossh.Client, cmd string) gossh.Channel {
	t.Helper()
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go gossh.DiscardRequests(reqs)
	if ok, err := ch.SendRequest("exec", true, gossh.Marshal(struct{ Cmd string }{cmd})); !ok || err != nil {
		t.Fatalf("exec %s: %v %v", cmd, ok, err)
	}
	return ch
}

func waitSessions(h *harness, n int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for h.srv.Sessions() != n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return h.srv.Sessions()
}

// A session whose client stopped reading (its output blocks) is still closed by the idle
// timeout, and gives its slot back.
func TestIdleSessionThatStopsReadingIsClosed(t *testing.T) {
	h := start(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	ch := rawExec(t, h.client(t), "cat")
	go func() { // more than the SSH window: cat's output blocks, then its input
		ch.Write(bytes.Repeat([]byte("x"), 8<<20))
	}()
	if n := waitSessions(h, 1, 5*time.Second); n != 1 {
		t.Fatalf("%d sessions open, want 1", n)
	}
	if n := waitSessions(h, 0, 5*time.Second); n != 0 {
		t.Fatal("the idle session of a client that stopped reading was never closed")
	}
}

// Shutdown closes a command that ignores its context (it waits for its standard input, which
// the client keeps open) well within the 5 s the issue allows.
func TestShutdownClosesCommandsThatIgnoreIt(t *testing.T) {
	h := start(t)
	c := h.client(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("deaf"); err != nil {
		t.Fatal(err)
	}
	if n := waitSessions(h, 1, 5*time.Second); n != 1 {
		t.Fatalf("%d sessions open, want 1", n)
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.srv.Shutdown(ctx)
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("shutdown took %s: it waited for a command that ignores it", d.Round(time.Millisecond))
	}
	if n := h.srv.Sessions(); n != 0 {
		t.Errorf("%d sessions still open after shutdown", n)
	}
}

// An authorized_keys file that others may write is refused as soon as it becomes so (as sshd
// refuses it), not only at start: nobody is let in until its mode is fixed.
func TestAuthorizedKeysWritableByOthersAreRefused(t *testing.T) {
	h := start(t)
	stranger := newSigner(t)
	if err := os.Chmod(h.cfg.AuthorizedKeys, 0o666); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(h.cfg.AuthorizedKeys, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(authorizedLine(stranger))
	f.Close()
	for name, key := range map[string]gossh.Signer{"stranger": stranger, "member": h.user} {
		if c, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(key)}, nil); err == nil {
			c.Close()
			t.Errorf("%s let in through a world-writable authorized_keys", name)
		}
	}
	if !strings.Contains(h.logs.String(), "chmod go-w "+h.cfg.AuthorizedKeys) {
		t.Errorf("the log does not say how to fix it:\n%s", h.logs)
	}
	if err := os.Chmod(h.cfg.AuthorizedKeys, 0o600); err != nil {
		t.Fatal(err)
	}
	h.client(t) // fixed: members are let in again
}

// A panic in a UI session whose message holds terminal escapes is logged escaped with its
// stack, and nothing reaches the server's own stderr (where Bubble Tea would print it raw).
func TestUIPanicIsLoggedEscapedNotPrinted(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	printed := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(r); printed <- b }()
	defer func() { os.Stderr = stderr }()

	h := start(t, func(c *Config) { c.Audit = &panicky{msg: "injected \x1b]0;pwned\a failure"} })
	c := h.client(t)
	u := h.openUI(t, c, 100, 30, nil)
	u.waitFor(t, "Virtual machines")
	u.in.Write([]byte("\r"))
	u.waitFor(t, "VMs › web-01")
	u.in.Write([]byte("\r"))
	u.waitFor(t, "› flow")
	u.in.Write([]byte("443\t13.107.21.200\t60000\r"))
	if code := u.wait(t); code != 1 || strings.TrimRight(u.errb.String(), "\r\n") != "ipflow: internal error: this session is closed (the server goes on running)" {
		t.Errorf("exit %d, stderr %q", code, u.errb.String())
	}
	h.stop(t)
	os.Stderr = stderr
	w.Close()
	if out := <-printed; len(out) > 0 {
		t.Errorf("the panic reached the server's stderr:\n%q", out)
	}
	logs := h.logs.String()
	for _, want := range []string{"session panicked", `injected \\x1b]0;pwned\\a failure`, "(*panicky).Write"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "\x1b") || strings.Contains(u.out.String()+u.errb.String(), "pwned") {
		t.Error("the panic's escapes reached a log or the client raw")
	}
}

// A huge command line is refused before the SSH library splits it into words (in time quadratic
// in a word's length); a long one, and a huge user name, are cut in what the server writes, so
// one session cannot make its client, the log or the audit log hold them.
func TestHugeCommandsAndUserNamesAreCut(t *testing.T) {
	h := start(t)
	huge := strings.Repeat("\x1b[2J", 30000) // 120 KB
	c, err := gossh.Dial("tcp", h.addr, &gossh.ClientConfig{User: "u" + huge, Auth: []gossh.AuthMethod{gossh.PublicKeys(h.user)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	if _, refused, code := h.exec(t, c, "version"+huge, ""); code != 1 || refused != "ipflow: the command line is 120007 bytes long, more than the 4096 bytes a command may have\n" {
		t.Errorf("a huge command: exit %d, stderr %.200q", code, refused)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("refusing a huge command took %s", d)
	}
	long := strings.Repeat("\x1b[2J", 1000) // 4 KB, 16 KB escaped
	if _, refused, code := h.exec(t, c, "nosuch"+long, ""); code != 1 || len(refused) > 1024 || !strings.Contains(refused, "is not a command here") {
		t.Errorf("refusal of a long command: exit %d, %d bytes: %.200q", code, len(refused), refused)
	}
	if _, _, code := h.exec(t, c, "version "+long, ""); code != 0 {
		t.Errorf("version: exit %d", code)
	}
	for name, s := range map[string]string{"log": h.logs.String(), "audit": h.audit.String()} {
		for _, line := range strings.Split(s, "\n") {
			if len(line) > 8<<10 {
				t.Errorf("a %s line of %d bytes: %.300q", name, len(line), line)
			}
		}
	}
}

// A session's slot is free once its client has its exit status: with one slot, commands run
// back to back are never told the server is busy.
func TestBackToBackCommandsFindTheirSlotFree(t *testing.T) {
	h := start(t, func(c *Config) { c.MaxSessions = 1 })
	c := h.client(t)
	for i := range 100 {
		if out, errOut, code := h.exec(t, c, "version", ""); code != 0 || out != "ran version\n" {
			t.Fatalf("command %d: exit %d, stdout %q, stderr %q", i, code, out, errOut)
		}
	}
}
