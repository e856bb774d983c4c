package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
	"ipflow/server"
)

// userKey makes an ed25519 key pair in dir: the private key file (OpenSSH format, 0600) and
// an authorized_keys file listing it.
func userKey(t testing.TB, dir string) (gossh.Signer, string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	return signer, keyFile, auth
}

// Over SSH, the subcommands are the command line's own: the same output, the same exit codes.
func TestServedSubcommandsMatchTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	signer, _, auth := userKey(t, dir)
	srv, err := server.New(server.Config{Listen: "127.0.0.1:0", AuthorizedKeys: auth, HostKey: filepath.Join(dir, "hk"),
		MaxSessions: 8, Run: serveRunner, Commands: servedCommands, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	c, err := gossh.Dial("tcp", addr.String(), &gossh.ClientConfig{User: "t", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000"}},
		{"", []string{"verify", "--vm", "app-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.1.1.4:8080", "--remote", "10.0.1.5:50000", "-o", "json"}},
		{"", []string{"verify", "--vm", "nosuch", "--direction", "inbound", "--protocol", "tcp", "--local", "10.1.1.4:8080", "--remote", "10.0.1.5:50000"}},
		{"", []string{"verify", "--vm", "web-01"}},
		{"", []string{"rules", "--vm", "web-01"}},
		{"", []string{"reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--port", "443"}},
		{"", []string{"lint"}},
		{"", []string{"lint", "-o", "json", "--fail-on", "note"}},
		{sampleFlows(t), []string{"test", "-"}},
		{failingFlows(t), []string{"test", "-", "-o", "json"}},
		{"", []string{"version"}},
	} {
		wantCode, wantOut, wantErr := runStdin(tc.stdin, tc.args...)
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		sess.Stdout, sess.Stderr, sess.Stdin = &out, &errb, strings.NewReader(tc.stdin)
		err = sess.Run(shellJoin(tc.args))
		code := 0
		if e, ok := err.(*gossh.ExitError); ok {
			code = e.ExitStatus()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantCode || out.String() != wantOut || errb.String() != wantErr {
			t.Errorf("%v over ssh: exit %d, stdout %q, stderr %q\nlocally: exit %d, stdout %q, stderr %q",
				tc.args, code, out.String(), errb.String(), wantCode, wantOut, wantErr)
		}
	}
	// Files on the server are out of reach: -f, a flows file by name, --junit.
	for _, args := range [][]string{
		{"reach", "-f", "/etc", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--port", "443"},
		{"rules", "-f", "/etc", "--vm", "web-01"},
		{"lint", "-f", "/etc"},
		{"test", "/etc/passwd"},
		{"test", "-", "--junit", "/tmp/x.xml"},
	} {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		sess.Stdout, sess.Stderr = &out, &errb
		err = sess.Run(shellJoin(args))
		if e, ok := err.(*gossh.ExitError); !ok || e.ExitStatus() != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "ssh") {
			t.Errorf("%v over ssh: %v, stdout %q, stderr %q", args, err, out.String(), errb.String())
		}
	}
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func TestServeFlags(t *testing.T) {
	code, _, errOut := runArgs("serve", "--host-key", filepath.Join(t.TempDir(), "hk"))
	if code != 2 || !strings.Contains(errOut, "--authorized-keys FILE is required") {
		t.Fatalf("no --authorized-keys: exit %d, %q", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "authorized_keys")
	code, _, errOut = runArgs("serve", "--authorized-keys", missing, "--host-key", filepath.Join(t.TempDir(), "hk"))
	if code != 2 || !strings.Contains(errOut, "cat ~/.ssh/id_ed25519.pub >> "+missing) {
		t.Fatalf("missing file: exit %d, %q", code, errOut)
	}
}

// needSSH is needTmux for the OpenSSH client.
func needSSH(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the OpenSSH client is required in CI: %v", err)
		}
		t.Skipf("ssh not found: %v", err)
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(l.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server log never matched %s:\n%s", re, l.String())
	return nil
}

// The real binary served, the system's ssh client in tmux: the TUI reaches a verdict, a
// command session answers, SIGHUP reloads, SIGTERM stops the server with exit 0.
func TestServeEndToEndWithSystemSSH(t *testing.T) {
	needTmux(t)
	needSSH(t)
	if testing.Short() {
		t.Skip("builds the binary and drives ssh in tmux")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	_, keyFile, auth := userKey(t, dir)
	audit := filepath.Join(dir, "audit.jsonl")
	log := &lockedBuffer{}
	srv := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--authorized-keys", auth,
		"--host-key", filepath.Join(dir, "host", "key"), "--audit-log", audit)
	srv.Stdout, srv.Stderr = log, log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer srv.Process.Kill()
	port := log.waitFor(t, regexp.MustCompile(`msg=listening address=127\.0\.0\.1:(\d+)`))[1]

	sshArgs := []string{"ssh", "-p", port, "-i", keyFile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "localhost"}
	s := startTmux(t, 100, 30, nil, append(sshArgs[:1:1], append([]string{"-tt"}, sshArgs[1:]...)...)...)
	s.waitFor("Virtual machines", "web-01", "contoso-westeurope")
	s.keys("Enter")
	s.waitFor("VMs › web-01", "web-01-nic")
	s.keys("Enter")
	s.waitFor("› flow", "Local port")
	s.typeText("443")
	s.keys("Tab")
	s.typeText("13.107.21.200")
	s.keys("Tab")
	s.typeText("60000")
	s.keys("Enter")
	s.waitFor("Access allowed", "securityRules/allow-https", "web-nic-nsg on networkInterface/web-01-nic")
	s.typeText("q")
	s.waitGone()

	// A command session with the system client: the same answer as the command line.
	args := []string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "13.107.21.200:60000"}
	out, err := exec.Command(sshArgs[0], append(sshArgs[1:], args...)...).Output()
	if _, want, _ := runArgs(args...); err != nil || string(out) != want {
		t.Fatalf("ssh … verify: %v\n%s\nwant:\n%s", err, out, want)
	}

	srv.Process.Signal(syscall.SIGHUP)
	log.waitFor(t, regexp.MustCompile(`msg="estate reloaded"`))
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(6 * time.Second):
		t.Fatalf("the server did not stop within 5 s of SIGTERM:\n%s", log.String())
	}

	// The audit log: the UI session and its verdict, the command session and its verdict.
	f, err := os.Open(audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := regexp.MustCompile(`"event":"([a-z-]+)"`).FindStringSubmatch(sc.Text())
		if m != nil {
			events[m[1]]++
		}
	}
	if events["session-start"] != 2 || events["session-end"] != 2 || events["verdict"] != 2 || events["reload"] != 1 {
		t.Errorf("audit events %v", events)
	}
}

// --max-file-size applies to the served estate, as to every -f.
func TestServeMaxFileSize(t *testing.T) {
	dir := t.TempDir()
	_, _, auth := userKey(t, dir)
	fixture := filepath.Join(dir, "estate.toml")
	if err := os.WriteFile(fixture, fixtures.Sample()[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	defer maxFileSize.Store(0)
	code, _, errOut := runArgs("serve", "--max-file-size", "100", "-f", fixture, "--authorized-keys", auth, "--host-key", filepath.Join(dir, "hk"))
	if code != 2 || !strings.Contains(errOut, "the estate does not load") || !strings.Contains(errOut, fixture) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// What a session typed comes back in errors escaped (an unknown flag is echoed by the flag
// package, raw), and each error names its command once.
func TestServedErrorsAreEscapedAndSaidOnce(t *testing.T) {
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.Compile(env)
	for _, args := range [][]string{
		{"verify", "-\x1b]0;pwned\a"},
		{"rules", "--\x1b[2J"},
		{"lint", "-o", "\x1b[2J"},
		{"test", "/etc/\x1b[2Jshadow"},
		{"verify", "--what-if", "/etc/passwd", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "1.2.3.4:5"},
	} {
		var out, errb bytes.Buffer
		code := serveRunner(context.Background(), server.Command{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Engine: eng})
		msg := errb.String()
		if code != 2 || strings.ContainsAny(msg, "\x1b\a") || strings.Count(msg, "ipflow "+args[0]+":") != 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, msg)
		}
	}
}

// Over ssh a flows file or change set on standard input is limited to 8 MiB: parsing holds
// about 25 times its size, and many sessions may parse at once.
func TestServedInputFilesAreBounded(t *testing.T) {
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.Compile(env)
	big := strings.Repeat("# a comment line, long enough to make the file big quickly ........\n", (8<<20)/60)
	for _, args := range [][]string{
		{"test", "-"},
		{"verify", "--what-if", "-", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "1.2.3.4:5"},
	} {
		var out, errb bytes.Buffer
		code := serveRunner(context.Background(), server.Command{Args: args, Stdin: strings.NewReader(big), Stdout: &out, Stderr: &errb, Engine: eng})
		if code != 2 || !strings.Contains(errb.String(), "limited to 8 MiB over ssh") {
			t.Errorf("%s with %d MiB on stdin: exit %d, stderr %q", args[0], len(big)>>20, code, errb.String())
		}
	}
}

// --max-file-size sets a process-wide limit: a session may not change the server's.
func TestServedSessionsCannotSetTheMaxFileSize(t *testing.T) {
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	before := maxFileSize.Load()
	for _, flag := range []string{"--max-file-size", "-max-file-size", "--max-file-size=1", "-max-file-size=1"} {
		args := []string{"verify", flag, "1", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "1.2.3.4:5"}
		if strings.Contains(flag, "=") {
			args = append(args[:2], args[3:]...)
		}
		var out, errb bytes.Buffer
		code := serveRunner(context.Background(), server.Command{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Engine: engine.Compile(env)})
		if code != 2 || !strings.Contains(errb.String(), "--max-file-size is not available over ssh") || maxFileSize.Load() != before {
			t.Errorf("%s: exit %d, stderr %q, max file size %d (was %d)", flag, code, errb.String(), maxFileSize.Load(), before)
		}
	}
}

// Help over ssh lists what a session may run, and every command line it shows runs.
func TestServedHelpListsWhatRuns(t *testing.T) {
	eng := engine.Compile(model.MustLoad(fixtures.Sample()...))
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := serveRunner(context.Background(), server.Command{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Engine: eng})
		return code, out.String(), errb.String()
	}
	code, help, _ := run("", "help")
	if code != 0 || !strings.Contains(help, "ipflow over ssh") {
		t.Fatalf("help: exit %d: %s", code, help)
	}
	for _, cmd := range []string{"check", "import", "matrix", "diff", "serve", "-f PATH"} {
		if strings.Contains(help, " "+cmd+" ") {
			t.Errorf("help over ssh offers %q, which a session cannot run", cmd)
		}
	}
	for _, cmd := range servedCommands {
		if cmd != "help" && !strings.Contains(help, "ssh HOST "+cmd) {
			t.Errorf("help over ssh does not show %s", cmd)
		}
	}
	flow := []string{"--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "13.107.21.200:60000"}
	change := "[[change]]\nop = \"add\"\nnsg = \"web-subnet-nsg\"\n[change.rule]\nname = \"deny-all-https\"\npriority = 101\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = \"*\"\ndestination = \"*\"\ndestination_ports = \"443\"\n"
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", append([]string{"verify"}, flow...), "Access allowed"},
		{change, append([]string{"verify", "--what-if", "-", "--suggest", "-o", "json"}, flow...), `"access"`},
		{"vm,direction,protocol,local,remote\nweb-01,inbound,tcp,10.0.1.4:443,13.107.21.200:60000\n", []string{"verify", "--batch"}, "Allow"},
		{string(fixtures.SampleFlows().Data), []string{"test", "-"}, "passed, 0 failed"},
		{"", []string{"rules", "--vm", "web-01", "--direction", "inbound"}, "allow-https"},
		{"", []string{"reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--port", "443"}, "Internet"},
		{"", []string{"lint", "-o", "sarif"}, "2.1.0"},
		{"", []string{"version"}, "ipflow"},
	} {
		code, out, errOut := run(c.stdin, c.args...)
		if code > 1 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, stdout %.200q, stderr %q", c.args, code, out, errOut)
		}
	}
}
