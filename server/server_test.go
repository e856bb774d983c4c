package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"ipflow/engine"
	"ipflow/model"
)

func TestUIOpensForAnAuthorisedKey(t *testing.T) {
	h := start(t)
	u := h.openUI(t, h.client(t), 100, 30, map[string]string{"NO_COLOR": "1"})
	u.waitFor(t, "Virtual machines")
	u.waitFor(t, "web-01")
	u.waitFor(t, "contoso-westeurope")
	if strings.Contains(u.out.String(), "\x1b[38;") {
		t.Error("NO_COLOR from the client should leave no colours")
	}
	u.in.Write([]byte("q"))
	if code := u.wait(t); code != 0 {
		t.Fatalf("q ended the session with %d", code)
	}
	if !strings.Contains(h.audit.String(), `"event":"session-end"`) {
		t.Fatalf("no session-end in the audit log:\n%s", h.audit)
	}
}

// The UI is drawn at the client's terminal size and follows its resizes.
func TestUIFollowsTheClientsWindow(t *testing.T) {
	h := start(t)
	u := h.openUI(t, h.client(t), 40, 10, nil)
	u.waitFor(t, "this is 40×10.")
	if err := u.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	u.waitFor(t, "Virtual machines")
}

// The UI takes its colours from the client's TERM and COLORTERM, never the server's.
func TestUIColourProfileIsTheClients(t *testing.T) {
	t.Setenv("NO_COLOR", "1") // the server's own environment must not matter
	h := start(t)
	u := h.openUI(t, h.client(t), 100, 30, map[string]string{"COLORTERM": "truecolor"})
	u.waitFor(t, "Virtual machines")
	if !strings.Contains(u.out.String(), "\x1b[38;2;") {
		t.Errorf("COLORTERM=truecolor from the client should give 24-bit colours; output:\n%q", u.out.String())
	}
}

func TestUnknownKeyPasswordAndKeyboardInteractiveAreRefused(t *testing.T) {
	h := start(t)
	stranger := newSigner(t)
	for name, auth := range map[string][]gossh.AuthMethod{
		"unknown key": {gossh.PublicKeys(stranger)},
		"password":    {gossh.Password("hunter2")},
		"keyboard-interactive": {gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"hunter2"}, nil
		})},
	} {
		c, err := h.dial(auth, nil)
		if err == nil {
			c.Close()
			t.Fatalf("%s: logged in", name)
		}
		if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(h.logs.String(), gossh.FingerprintSHA256(stranger.PublicKey())) {
		t.Errorf("the refused key's fingerprint is not in the log:\n%s", h.logs)
	}
}

func TestForwardingIsRefused(t *testing.T) {
	h := start(t)
	c := h.client(t)
	if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
		t.Error("remote port forwarding was accepted")
	}
	if conn, err := c.Dial("tcp", h.addr); err == nil {
		conn.Close()
		t.Error("local port forwarding (direct-tcpip) was accepted")
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req"} {
		ok, err := sess.SendRequest(req, true, nil)
		if err != nil || ok {
			t.Errorf("%s: accepted %v, err %v", req, ok, err)
		}
	}
	// The environment: TERM, NO_COLOR and COLORTERM only.
	if err := sess.Setenv("LD_PRELOAD", "/tmp/evil.so"); err == nil {
		t.Error("LD_PRELOAD was accepted")
	}
	if err := sess.Setenv("NO_COLOR", "1"); err != nil {
		t.Errorf("NO_COLOR refused: %v", err)
	}
}

func TestCommandOverExec(t *testing.T) {
	h := start(t)
	c := h.client(t)
	out, errOut, code := h.exec(t, c, "verify web-01 inbound tcp 10.0.1.4:443 13.107.21.200:60000", "")
	if code != 0 || errOut != "" || out != "Allow securityRules/allow-https\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The session's standard input reaches the command.
	if out, _, code := h.exec(t, c, "cat", "flows\non stdin\n"); code != 0 || out != "flows\non stdin\n" {
		t.Fatalf("cat: exit %d, %q", code, out)
	}
	// The audit log has the verdict, with the key's fingerprint and never the key.
	audit := h.audit.String()
	for _, want := range []string{`"event":"verdict"`, `"vm":"web-01"`, `"access":"Allow"`, `"rule":"securityRules/allow-https"`,
		`"flow":"Inbound TCP 13.107.21.200:60000 → 10.0.1.4:443"`, gossh.FingerprintSHA256(h.user.PublicKey())} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
	if key := base64.StdEncoding.EncodeToString(h.user.PublicKey().Marshal()); strings.Contains(audit+h.logs.String(), key) {
		t.Error("the public key itself is in the logs")
	}
	for _, line := range strings.Split(strings.TrimSpace(audit), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("audit line is not JSON: %q", line)
		}
	}
}

func TestShellScpSftpAndUnknownCommandsAreRefused(t *testing.T) {
	h := start(t)
	c := h.client(t)
	// A shell without a terminal: there is no shell to give.
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	sess.Stderr = &errb
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, sess.Wait()); code != 1 || !strings.HasPrefix(errb.String(), "ipflow: no terminal: connect with ssh -t") || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("shell: exit %d, stderr %q", code, errb.String())
	}
	for cmd, want := range map[string]string{
		"scp -t /tmp":       `ipflow: "scp" is not offered (no file transfer, no shell); commands: verify`,
		"/bin/sh -c id":     `ipflow: "/bin/sh" is not offered`,
		"import -o /tmp/x":  `ipflow: "import" is not a command here; commands: verify, cat, wait, deaf, panic, version`,
		"verify\x1b[2J x y": `not a command here`, // shlex keeps the escape in the word: it must come back quoted
	} {
		out, errOut, code := h.exec(t, c, cmd, "")
		if code != 1 || out != "" || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "\x1b") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
	}
	sess, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	if msg, _ := io.ReadAll(stderr); string(msg) != "ipflow: subsystem \"sftp\" is not offered (no sftp, no scp: ipflow serve only answers flow questions)\n" {
		t.Errorf("sftp: stderr %q", msg)
	}
}

// Fifty sessions open at once, each asking its own question, all answered as engine.Verify
// answers it directly.
func TestFiftySessionsAtOnce(t *testing.T) {
	h := start(t)
	eng := sampleEngine(t)
	type job struct{ line, want string }
	vms := []struct{ vm, ip string }{{"web-01", "10.0.1.4"}, {"web-02", "10.0.1.5"}, {"app-01", "10.1.1.4"}, {"db-01", "10.2.1.4"}, {"jump-01", "10.0.2.4"}}
	ports := []int{22, 80, 443, 1433, 3389, 5432, 8080, 60000}
	var jobs []job
	for i := 0; len(jobs) < 50; i++ {
		v, p := vms[i%len(vms)], ports[(i/len(vms))%len(ports)]
		dir := []string{"inbound", "outbound"}[i%2]
		line := fmt.Sprintf("%s %s tcp %s:%d 13.107.21.%d:50000", v.vm, dir, v.ip, p, i)
		f, err := parseTestFlow(strings.Fields(line))
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Verify(f)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		jobs = append(jobs, job{line, fmt.Sprintf("%s %s\n", res.Access, res.RuleName())})
	}
	var seen = map[string]bool{}
	for _, j := range jobs {
		seen[j.want] = true
	}
	if len(seen) < 4 {
		t.Fatalf("the questions should have varied answers, got %v", seen)
	}

	// One connection carries at most maxChannelsPerConn sessions: use several.
	var conns []*gossh.Client
	for range (len(jobs) + maxChannelsPerConn - 1) / maxChannelsPerConn {
		conns = append(conns, h.client(t))
	}
	var wg sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := conns[i/maxChannelsPerConn].NewSession()
			if err != nil {
				errs <- err
				return
			}
			defer sess.Close()
			stdin, _ := sess.StdinPipe()
			var out, errb bytes.Buffer
			sess.Stdout, sess.Stderr = &out, &errb
			if err := sess.Start("verify -"); err != nil {
				errs <- err
				return
			}
			<-release // every session is open before any is answered
			fmt.Fprintln(stdin, j.line)
			stdin.Close()
			if err := sess.Wait(); err != nil || out.String() != j.want {
				errs <- fmt.Errorf("%s: got %q (stderr %q, %v), want %q", j.line, out.String(), errb.String(), err, j.want)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.srv.Sessions() < len(jobs) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	open := h.srv.Sessions()
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if open != len(jobs) {
		t.Errorf("%d sessions were open at once, want %d", open, len(jobs))
	}
}

func TestSessionLimit(t *testing.T) {
	h := start(t, func(c *Config) { c.MaxSessions = 2 })
	c := h.client(t)
	var holders []*gossh.Session
	for range 2 {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sess.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := sess.Start("wait"); err != nil {
			t.Fatal(err)
		}
		holders = append(holders, sess)
	}
	for h.srv.Sessions() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	out, errOut, code := h.exec(t, c, "version", "")
	if code != 1 || out != "" || errOut != "ipflow: server busy: 2 sessions are open, the most it takes; try again later\n" {
		t.Fatalf("third session: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	holders[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for h.srv.Sessions() > 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out, _, code := h.exec(t, c, "version", ""); code != 0 || out != "ran version\n" {
		t.Fatalf("after one closed: exit %d, %q", code, out)
	}
}

func TestHostKeyIsCreatedPrivateAndStableAcrossRestarts(t *testing.T) {
	h := start(t)
	var first, second gossh.PublicKey
	c, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(h.user)}, &first)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	fi, err := os.Stat(h.cfg.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %04o, want 0600", fi.Mode().Perm())
	}
	if first.Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type %s, want ed25519", first.Type())
	}
	h.stop(t)
	h.run(t)
	c, err = h.dial([]gossh.AuthMethod{gossh.PublicKeys(h.user)}, &second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !bytes.Equal(first.Marshal(), second.Marshal()) {
		t.Fatal("the host key changed across a restart")
	}
	// A key others can read is refused, as sshd refuses it.
	if err := os.Chmod(h.cfg.HostKey, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(h.cfg); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable host key: %v", err)
	}
}

func TestNoAuthorizedKeysRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Listen: "127.0.0.1:0", AuthorizedKeys: filepath.Join(dir, "authorized_keys"), HostKey: filepath.Join(dir, "hk"),
		MaxSessions: 1, Run: testRunner}
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "cat ~/.ssh/id_ed25519.pub >> "+cfg.AuthorizedKeys) {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(cfg.AuthorizedKeys, []byte("# nobody yet\n"), 0o600)
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "no usable key") {
		t.Fatalf("empty file: %v", err)
	}
	if _, err := os.Stat(cfg.HostKey); err == nil {
		t.Error("a host key was made although the server did not start")
	}
}

// The authorized_keys file is read again when it changes: a key added lets its holder in, a
// key removed keeps its holder out, and unusable lines are skipped with their file:line.
func TestAuthorizedKeysAreReadAgainOnChange(t *testing.T) {
	h := start(t)
	second := newSigner(t)
	if _, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(second)}, nil); err == nil {
		t.Fatal("a key not yet listed was let in")
	}
	u := h.openUI(t, h.client(t), 80, 24, nil)
	u.waitFor(t, "Virtual machines")
	content := "not a key\nfrom=\"10.0.0.0/8\" " + authorizedLine(h.user) + authorizedLine(second)
	if err := os.WriteFile(h.cfg.AuthorizedKeys, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(second)}, nil)
	if err != nil {
		t.Fatalf("an added key was refused: %v", err)
	}
	c.Close()
	if _, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(h.user)}, nil); err == nil {
		t.Fatal("a key whose only line now has from= (unsupported) was let in")
	}
	// The removed key's open session is closed too.
	if code := u.wait(t); code != 1 || !strings.Contains(u.errb.String(), "ipflow: session closed: your key was removed from the authorized keys") {
		t.Errorf("open session of a removed key: exit %d, stderr %q", code, u.errb.String())
	}
	logs := h.logs.String()
	for _, want := range []string{h.cfg.AuthorizedKeys + ":1", h.cfg.AuthorizedKeys + ":2", "option=from"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestPanicInASessionIsRecovered(t *testing.T) {
	h := start(t)
	c := h.client(t)
	out, errOut, code := h.exec(t, c, "panic", "")
	if code != 1 || out != "" || errOut != "ipflow: internal error: this session is closed (the server goes on running)\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if out, _, code := h.exec(t, c, "version", ""); code != 0 || out != "ran version\n" {
		t.Fatalf("after the panic: exit %d, %q", code, out)
	}
	if !strings.Contains(h.logs.String(), "session panicked") {
		t.Error("the panic is not logged")
	}
}

func TestIdleSessionIsClosed(t *testing.T) {
	h := start(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	u := h.openUI(t, h.client(t), 80, 24, nil)
	u.waitFor(t, "Virtual machines")
	began := time.Now()
	if code := u.wait(t); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(u.errb.String(), "ipflow: session closed: idle for 300ms") {
		t.Errorf("stderr %q", u.errb.String())
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("closed after %s", d)
	}
	if !strings.Contains(u.out.String(), "\x1b[?1049l") {
		t.Error("the client's terminal was left on the alternate screen")
	}
}

// writeFixture writes a one-VM estate whose NSG allows port to web.
func writeFixture(t testing.TB, path string, port int) {
	t.Helper()
	data := fmt.Sprintf(`[environment]
name = "reload-test"

[[vnet]]
name = "v"
address_space = ["10.0.0.0/16"]

  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"
  nsg = "n"

[[nsg]]
name = "n"

  [[nsg.rule]]
  name = "allow-it"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
  destination_ports = "%d"

[[vm]]
name = "web"

  [[vm.nic]]
  name = "web-nic"
  subnet = "v/s"
  private_ip = "10.0.1.4"
`, port)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReloadKeepsTheOldEstateWhenTheNewOneIsBroken(t *testing.T) {
	fixture := filepath.Join(t.TempDir(), "estate.toml")
	writeFixture(t, fixture, 443)
	h := start(t, func(c *Config) { c.Fixtures = []string{fixture} })
	c := h.client(t)
	ask := func() string {
		out, errOut, code := h.exec(t, c, "verify web inbound tcp 10.0.1.4:443 1.2.3.4:5000", "")
		if code != 0 {
			t.Fatalf("exit %d, %q", code, errOut)
		}
		return out
	}
	if got := ask(); got != "Allow securityRules/allow-it\n" {
		t.Fatalf("before: %q", got)
	}
	u := h.openUI(t, c, 100, 30, nil)
	u.waitFor(t, "reload-test")

	old := h.srv.Estate()
	if err := os.WriteFile(fixture, []byte("[environment]\nname = \"broken\"\n\n[[vm]]\nname = \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.logs.String(), "reload failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "reload failed") || !strings.Contains(logs, fixture+":5") {
		t.Fatalf("the failed reload is not logged with file:line:\n%s", logs)
	}
	if h.srv.Estate() != old {
		t.Fatal("a broken estate replaced the old one")
	}
	if got := ask(); got != "Allow securityRules/allow-it\n" {
		t.Fatalf("after a broken reload: %q", got)
	}

	// A good change is picked up, and the open UI is told.
	writeFixture(t, fixture, 8443)
	deadline = time.Now().Add(5 * time.Second)
	for h.srv.Estate() == old && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := ask(); got != "Deny defaultSecurityRules/DenyAllInBound\n" {
		t.Fatalf("after a good reload: %q", got)
	}
	u.waitFor(t, "your next verdict uses it")
	if !strings.Contains(h.audit.String(), `"event":"reload-failed"`) || !strings.Contains(h.audit.String(), `"event":"reload"`) {
		t.Errorf("reloads are not in the audit log:\n%s", h.audit)
	}
}

func TestShutdownTellsSessionsAndClosesThem(t *testing.T) {
	h := start(t, func(c *Config) { c.Notice = 300 * time.Millisecond })
	c := h.client(t)
	u := h.openUI(t, c, 100, 30, nil)
	u.waitFor(t, "Virtual machines")
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	u.waitFor(t, "The server is shutting down: this session closes in 0s")
	if code := u.wait(t); code != 1 || !strings.Contains(u.errb.String(), "ipflow: session closed: the server is shutting down") {
		t.Errorf("exit %d, stderr %q", code, u.errb.String())
	}
	if _, err := h.dial([]gossh.AuthMethod{gossh.PublicKeys(h.user)}, nil); err == nil {
		t.Error("a connection was accepted after shutdown")
	}
}

// Hostile clients: absurd window sizes, a hostile TERM, an environment flood and a flood of
// window changes. The server stays up and answers.
func TestHostileClientsDoNotHurtTheServer(t *testing.T) {
	h := start(t)
	c := h.client(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	big := strings.Repeat("x", 200<<10)
	for i := range 2000 {
		_ = sess.Setenv(fmt.Sprintf("V%d", i), big[:100])
	}
	_ = sess.Setenv("TERM", big)
	if err := sess.RequestPty("../../../../etc/passwd\x1b[2J", 1<<30, 1<<30, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	sess.Stdout = out
	stdin, _ := sess.StdinPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	u := &ui{sess: sess, out: out, errb: &syncBuffer{}}
	u.waitFor(t, "Virtual machines")
	for i := range 300 {
		_ = sess.WindowChange(i*1000, -i)
	}
	_ = sess.WindowChange(24, 80)
	stdin.Write([]byte("/web"))
	u.waitFor(t, "2 of 7 VMs match")
	// Another client is still served promptly.
	if out, _, code := h.exec(t, h.client(t), "version", ""); code != 0 || out != "ran version\n" {
		t.Fatalf("exit %d, %q", code, out)
	}
	if got := clampWindow(windowOf(1<<30, 1<<30)); got.Width != maxCols || got.Height != maxRows {
		t.Errorf("clamp: %+v", got)
	}
	if got := cleanTerm("../../etc/passwd"); got != "xterm" {
		t.Errorf("cleanTerm: %q", got)
	}
}

// A stream of sessions that drop at every stage (after the pty, mid-command, without a
// request) leaves nothing open.
func TestDroppedSessionsLeaveNothingOpen(t *testing.T) {
	h := start(t)
	for i := range 20 {
		c := h.client(t)
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			_ = sess.RequestPty("xterm", 24, 80, nil)
		case 1:
			_, _ = sess.StdinPipe()
			_ = sess.Start("wait")
		}
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.srv.Sessions() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions still open", n)
	}
}

func TestAuditNamesAreEscaped(t *testing.T) {
	res := &engine.Result{Flow: engine.Flow{VM: "x", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.0.1"), RemoteIP: netip.MustParseAddr("10.0.0.2")},
		VM: &model.VM{Name: "evil\x1b[2J\u009b"}}
	rec := verdictRecord(res)
	line, _ := json.Marshal(rec)
	var back auditRecord
	json.Unmarshal(line, &back)
	if strings.ContainsAny(back.VM, "\x1b\u009b") {
		t.Fatalf("raw control characters in the audit record: %q", back.VM)
	}
	if ansi.Strip(back.VM) != back.VM {
		t.Fatal("escape sequences in the audit record")
	}
}

// A name in a fixture with terminal escapes reaches neither a client's terminal nor the logs
// raw: not through the UI, not through a command, not through the audit log.
func TestHostileFixtureNamesNeverReachTheTerminalRaw(t *testing.T) {
	fixture := filepath.Join(t.TempDir(), "estate.toml")
	writeFixture(t, fixture, 443)
	data, _ := os.ReadFile(fixture)
	const evil = "\x1b]0;pwned\x07\x1b[2J"
	data = bytes.Replace(data, []byte(`name = "web"`), []byte(`name = "web\u001b]0;pwned\u0007\u001b[2J"`), 1)
	if err := os.WriteFile(fixture, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, func(c *Config) { c.Fixtures = []string{fixture} })
	if h.srv.Estate().Engine.Environment().VMs[0].Name != "web"+evil {
		t.Fatalf("the fixture did not load the hostile name: %q", h.srv.Estate().Engine.Environment().VMs[0].Name)
	}
	c := h.client(t)
	u := h.openUI(t, c, 100, 30, nil)
	u.waitFor(t, `web\x1b]0;pwned\a\x1b[2J`)
	u.in.Write([]byte("\r"))
	u.waitFor(t, "web-nic")
	_, errOut, _ := h.exec(t, c, "verify "+shellQuote("web"+evil)+" inbound tcp 10.0.1.4:1 1.2.3.4:5", "")
	for where, s := range map[string]string{"ui": u.out.String(), "command": errOut, "audit": h.audit.String(), "log": h.logs.String()} {
		if strings.Contains(s, "\x1b]0;pwned") {
			t.Errorf("the raw name reached the %s: %q", where, s)
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestABrokenEstateAtStartIsRefusedWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	fixture := filepath.Join(dir, "estate.toml")
	os.WriteFile(fixture, []byte("[environment]\nname = \"x\"\n\n[[vm]]\nname = \n"), 0o644)
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, []byte(authorizedLine(newSigner(t))), 0o600)
	_, err := New(Config{Listen: "127.0.0.1:0", AuthorizedKeys: keys, HostKey: filepath.Join(dir, "hk"), MaxSessions: 1,
		Run: testRunner, Fixtures: []string{fixture}})
	if err == nil || !strings.Contains(err.Error(), "the estate does not load") || !strings.Contains(err.Error(), fixture+":5") {
		t.Fatalf("%v", err)
	}
}

// panicky is an audit writer that panics on a verdict (with msg, or "injected failure"): a
// stand-in for a bug met mid-session.
type panicky struct {
	syncBuffer
	msg string
}

func (p *panicky) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte(`"event":"verdict"`)) {
		panic(cmp.Or(p.msg, "injected failure"))
	}
	return p.syncBuffer.Write(b)
}

// A panic inside a UI session (here while the verdict is recorded, inside the UI's update)
// closes that session with one line and leaves the server serving.
func TestPanicInAUISessionIsRecovered(t *testing.T) {
	audit := &panicky{}
	h := start(t, func(c *Config) { c.Audit = audit })
	c := h.client(t)
	u := h.openUI(t, c, 100, 30, nil)
	u.waitFor(t, "Virtual machines")
	u.in.Write([]byte("\r"))
	u.waitFor(t, "VMs › web-01")
	u.in.Write([]byte("\r"))
	u.waitFor(t, "› flow")
	u.in.Write([]byte("443\t13.107.21.200\t60000\r"))
	if code := u.wait(t); code != 1 || !strings.Contains(u.errb.String(), "ipflow: internal error: this session is closed (the server goes on running)") {
		t.Fatalf("exit %d, stderr %q", code, u.errb.String())
	}
	if out, _, code := h.exec(t, c, "version", ""); code != 0 || out != "ran version\n" {
		t.Fatalf("after the panic: exit %d, %q", code, out)
	}
	if !strings.Contains(h.logs.String(), "session panicked") {
		t.Error("the panic is not logged")
	}
}
