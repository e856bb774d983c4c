package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real binary in a real terminal: a tmux server on a private socket,
// one detached session of a fixed size.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

// buildBinary builds ipflow into a temporary directory.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ipflow")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// needTmux skips without tmux, except in CI (CI set), where a missing tmux is a failure.
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tmux is required in CI: %v", err)
		}
		t.Skipf("tmux not found: %v", err)
	}
}

func startTmux(t *testing.T, w, h int, env []string, argv ...string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, socket: fmt.Sprintf("ipflow-test-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "ipflow"}
	args := []string{"new-session", "-d", "-s", s.name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "-e", "TERM=xterm-256color"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	args = append(args, strings.Join(quoted, " "))
	s.run(args...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Tab, Escape, Up, …).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// typeText sends literal text.
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	s.run("send-keys", "-t", s.name, "-l", text)
}

func (s *tmuxSession) screen() string {
	s.t.Helper()
	out, err := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-t", s.name).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

// waitFor polls the screen until every want is on it, or fails after a deadline.
func (s *tmuxSession) waitFor(wants ...string) string {
	s.t.Helper()
	return s.waitWithin(10*time.Second, wants...)
}

// waitWithin is waitFor with its own deadline (loading a large estate on a loaded machine).
func (s *tmuxSession) waitWithin(d time.Duration, wants ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		scr := s.screen()
		ok := true
		for _, w := range wants {
			if !strings.Contains(scr, w) {
				ok = false
				break
			}
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen does not show %q after %v:\n%s", wants, d, scr)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitGone waits for the program to exit (its session, the server's only one, ends).
func (s *tmuxSession) waitGone() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "-L", s.socket, "has-session", "-t", s.name).Run() == nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("ipflow still running after q:\n%s", s.screen())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestTmuxWalk(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	s := startTmux(t, 100, 30, nil, bin)

	s.waitFor("Virtual machines", "web-01", "batch-01")
	// Filter, open a VM, open a NIC.
	s.typeText("/web-0")
	s.waitFor("2 of 7 VMs match")
	s.keys("Down", "Enter")
	s.waitFor("/ web-0", "esc clears")
	s.keys("Enter")
	s.waitFor("VMs › web-02", "Network interfaces of web-02", "10.0.1.6")
	s.keys("Enter")
	s.waitFor("VMs › web-02 › web-02-nic › flow", "Local port")

	// Fill the form from the keyboard: q types into a field instead of quitting.
	s.typeText("q")
	s.waitFor("✗")
	s.keys("BSpace")
	s.typeText("80")
	s.keys("Tab")
	s.typeText("13.107.21.200:")
	s.typeText("50000")
	s.waitFor("Inbound TCP 13.107.21.200:50000 → 10.0.1.5:80")
	s.keys("Enter")
	scr := s.waitFor("Access allowed", "securityRules/allow-http ", "web-nic-nsg on networkInterface/web-02-nic")
	if !strings.Contains(scr, "› flow › verdict") {
		t.Fatalf("breadcrumb:\n%s", scr)
	}

	// Step through the trace.
	s.keys("g")
	s.waitFor("Step 1 of", "deny-ssh-from-internet")
	s.keys("n")
	s.waitFor("Step 2 of")
	s.keys("Right")
	s.waitFor("Step 3 of")
	s.keys("p")
	s.waitFor("Step 2 of")

	// Back to the form with the flow kept; change the port; a new verdict.
	s.keys("Escape")
	s.waitFor("Flow to check on web-02", "13.107.21.200", "50000")
	s.keys("Up", "Up", "BSpace", "BSpace")
	s.typeText("25")
	s.keys("Enter")
	s.waitFor("Access denied", "DenyAllInBound")

	// Resize: re-lays out; too small shows a frame, not garbage.
	s.run("resize-window", "-t", s.name, "-x", "40", "-y", "10")
	s.waitFor("Terminal too small")
	s.run("resize-window", "-t", s.name, "-x", "80", "-y", "24")
	s.waitFor("Access denied")

	// esc walks back; q quits from a browsing screen.
	s.keys("Escape")
	s.waitFor("Flow to check on web-02")
	s.keys("Escape")
	s.waitFor("Network interfaces of web-02")
	s.keys("Escape")
	s.waitFor("Virtual machines")
	s.keys("q")
	s.waitGone()
}

// colour matches an SGR sequence that sets a foreground or background colour.
var colour = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|38;[25]|48;[25])[;m]`)

func TestTmuxDeepLinkAndNoColor(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	s := startTmux(t, 80, 24, []string{"NO_COLOR=1"}, bin,
		"--vm", "web-01", "--direction", "inbound", "--protocol", "tcp",
		"--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000")
	s.waitFor("VMs › web-01 › web-01-nic › flow › verdict", "Access denied", "DenyAllInBound")

	// NO_COLOR: no colour escapes, but reverse video still marks the verdict and the deciding rule.
	out, err := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-e", "-t", s.name).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if colour.Match(out) {
		t.Fatalf("NO_COLOR output has colours:\n%q", out)
	}
	if !bytes.Contains(out, []byte("\x1b[7m")) && !bytes.Contains(out, []byte(";7m")) {
		t.Fatalf("NO_COLOR output has no reverse video:\n%q", out)
	}

	s.keys("Escape")
	s.waitFor("Flow to check on web-01", "13.107.21.200")
	s.keys("Escape")
	s.waitFor("Network interfaces of web-01")
	s.keys("Escape")
	s.waitFor("Virtual machines")
	s.keys("C-c")
	s.waitGone()
}

// Issue 8 in a real terminal: typing replaces a prefilled port (item 1), the flow is kept on
// another VM (item 3), r opens the NSG's whole rule table with tags expanded (item 12).
func TestTmuxTrustAndRuleTable(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	s := startTmux(t, 100, 30, nil, bin,
		"--vm", "web-01", "--direction", "inbound", "--protocol", "tcp",
		"--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000")
	s.waitFor("Access denied", "10.0.1.4:123")
	s.keys("e")
	s.waitFor("Flow to check on web-01")
	s.typeText("443")
	s.keys("Enter")
	s.waitFor("Access allowed", "13.107.21.200:60000 → 10.0.1.4:443", "securityRules/allow-https")

	// Back to the VM list one screen at a time (two quick escs count as two), then web-02.
	for _, want := range []string{"Flow to check on web-01", "Network interfaces of web-01", "Virtual machines"} {
		s.keys("Escape")
		s.waitFor(want)
	}
	s.keys("Down")
	s.waitFor("▶ web-02")
	s.keys("Enter")
	s.waitFor("Network interfaces of web-02")
	s.keys("Enter")
	s.waitFor("Flow to check on web-02", "Inbound TCP 13.107.21.200:60000 → 10.0.1.5:443")
	s.keys("Enter")
	s.waitFor("Access allowed", "web-02 / web-02-nic")

	// The deciding rule's NSG, both directions, AllowVnetInBound expanded.
	s.keys("r")
	s.waitFor("NSG web-nic-nsg", "Inbound rules", "Outbound rules", "deny-smtp-out")
	s.keys("Down", "Down", "Down")
	s.waitFor("defaultSecurityRules/AllowVnetInBound")
	s.keys("Enter")
	s.waitFor("VirtualNetwork: VNet hub", "VirtualNetwork: peered VNet spoke-app")
	s.keys("Escape")
	s.waitFor("Access allowed")
	s.keys("q")
	s.waitGone()
}

// Item 8 in a real terminal: on the 10,000-VM estate the loading screen comes first, keys
// typed while it loads apply once the estate is ready.
func TestTmuxLoadingScreen(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	estate := bigEstate(t)
	s := startTmux(t, 80, 24, nil, bin, "-f", estate)
	s.waitFor("loading the estate")
	s.typeText("/vm-4242")
	s.waitFor("keys typed: they apply when the estate is ready")
	s.waitWithin(90*time.Second, "1 of 10000 VMs match", "▶ vm-4242")
	s.keys("Enter", "Enter")
	s.waitFor("Network interfaces of vm-4242")
	s.keys("C-c")
	s.waitGone()
}

// Nothing cut silently at 50×12, in a real terminal: the copied command lines and the step
// show whole with i; the rule table searches with /.
func TestTmuxSmallTerminalInFull(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	s := startTmux(t, 50, 12, nil, bin,
		"--vm", "web-01", "--direction", "inbound", "--protocol", "tcp",
		"--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000")
	s.waitFor("Access denied")
	s.keys("c")
	s.waitFor("Sent the command lines", "more lines: i shows it all")
	s.keys("i")
	s.waitFor("ipflow verify --vm web-01 --nic web-01-nic", "az network watcher test-ip-flow --vm web-01 --nic")
	s.keys("Escape")
	s.waitFor("Access denied")
	s.keys("i")
	s.waitFor("Step 7 of 7 · NSG web-subnet-nsg", "“Deny all inbound traffic”")
	s.keys("Escape")
	s.waitFor("Access denied")
	s.keys("r")
	s.waitFor("NSG web-subnet-nsg")
	s.keys("/")
	s.typeText("443")
	s.waitFor("/ 443  1 match", "allow-https")
	s.keys("q")
	s.waitFor("/ 443q") // q types while searching
	s.keys("C-c")
	s.waitGone()
}
