package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipflow/fixtures"
)

// badInput runs a command that must fail with exit 2, one line on stderr naming the problem.
func badInput(t *testing.T, want string, args ...string) {
	t.Helper()
	code, out, errOut := runArgs(args...)
	if code != 2 || out != "" {
		t.Errorf("%q: exit %d, stdout %q; want 2 and nothing on stdout", args, code, out)
	}
	if !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("%q: stderr %q\n want one line containing %q", args, errOut, want)
	}
}

func TestReachCommand(t *testing.T) {
	code, out, errOut := runArgs("reach", "--vm", "app-01", "--direction", "inbound", "--protocol", "tcp", "--port", "8080")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, w := range []string{"Inbound TCP port 8080 to app-01 / app-01-nic", "securityRules/allow-web-to-app (priority 100, Allow) in NSG app-subnet-nsg on subnet/spoke-app/app\n    from 10.0.1.4/31 — part of subnet hub/web (web-01, web-02)\n      remote ports *, local ports 8080\n", "\nDenied\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = runArgs("reach", "--vm", "web-01", "--direction", "outbound", "--protocol", "icmp", "-o", "json")
	var v struct {
		Direction, Protocol string
		Allowed, Denied     []struct{ Prefixes []string }
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Direction != "Outbound" || v.Protocol != "ICMP" || len(v.Allowed) == 0 {
		t.Errorf("json: exit %d, %v: %s", code, err, out)
	}
}

func TestReachCommandErrors(t *testing.T) {
	flow := []string{"--direction", "inbound", "--protocol", "tcp", "--port", "443"}
	badInput(t, `--vm: unknown VM "web-1" (did you mean "web-01"?)`, append([]string{"reach", "--vm", "web-1"}, flow...)...)
	badInput(t, `--port "70000": port out of range`, "reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--port", "70000")
	badInput(t, `--port "9-3": range start 9 is above its end 3`, "reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--port", "9-3")
	badInput(t, `--port "22": ICMP has no ports; leave --port out`, "reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "icmp", "--port", "22")
	badInput(t, "--vm is required; --direction is required; --protocol is required", "reach")
	badInput(t, "--port is required for TCP", "reach", "--vm", "web-01", "--direction", "in", "--protocol", "tcp")
	badInput(t, `--direction "in": must be inbound or outbound`, "reach", "--vm", "web-01", "--direction", "in", "--protocol", "tcp")
	badInput(t, `--nic: VM "web-01" has no NIC "nope"`, append([]string{"reach", "--vm", "web-01", "--nic", "nope"}, flow...)...)
	badInput(t, `--vm: VM "batch-01" is deallocated`, append([]string{"reach", "--vm", "batch-01"}, flow...)...)
	badInput(t, `-o "yaml": must be text or json`, append([]string{"reach", "--vm", "web-01", "-o", "yaml"}, flow...)...)
	badInput(t, "/nonexistent.toml", append([]string{"reach", "-f", "/nonexistent.toml", "--vm", "web-01"}, flow...)...)
}

// sampleWith writes the sample with one edit to a temporary file and returns its path.
func sampleWith(t *testing.T, old, repl string) string {
	t.Helper()
	src := fixtures.Sample()[0].Data
	if !bytes.Contains(src, []byte(old)) {
		t.Fatalf("the sample has no %q", old)
	}
	p := filepath.Join(t.TempDir(), "new.toml")
	if err := os.WriteFile(p, bytes.Replace(src, []byte(old), []byte(repl), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiffCommand(t *testing.T) {
	same := sampleWith(t, "[environment]", "[environment]")
	if code, out, errOut := runArgs("diff", "--to", same); code != 0 || errOut != "" || !strings.HasPrefix(out, "No change") {
		t.Errorf("no change: exit %d, %q %q", code, out, errOut)
	}
	rdp := sampleWith(t, "name = \"deny-rdp\"\n  priority = 4000\n  direction = \"Inbound\"\n  access = \"Deny\"", "name = \"deny-rdp\"\n  priority = 4000\n  direction = \"Inbound\"\n  access = \"Allow\"")
	code, out, errOut := runArgs("diff", "--to", rdp)
	if code != 1 || errOut != "" {
		t.Fatalf("a change: exit %d, stderr %q", code, errOut)
	}
	for _, w := range []string{"web-01 / web-01-nic (10.0.1.4, subnet hub/web), inbound: ",
		"  TCP, UDP from 10.0.0.0/15, 10.2.0.0/16, 168.63.129.16/32, 192.168.0.0/16 (remote ports *, local ports 3389)\n    before: Deny by securityRules/deny-rdp (priority 4000, Deny) in NSG web-subnet-nsg on subnet/hub/web\n    after:  Allow by defaultSecurityRules/AllowVnetInBound",
		"3 NIC direction(s) changed"} {
		if !strings.Contains(out, w) {
			t.Errorf("diff lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = runArgs("diff", "--to", rdp, "-o", "json")
	var v struct {
		Changed bool
		NICs    []struct {
			VM      string
			Changes []struct {
				Prefixes      []string
				Before, After struct{ Access, Rule string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &v); code != 1 || err != nil || !v.Changed || len(v.NICs) != 3 || v.NICs[0].Changes[0].Before.Rule != "securityRules/deny-rdp" {
		t.Errorf("json: exit %d %v %s", code, err, out)
	}
	badInput(t, "--to or --what-if is required", "diff")
	badInput(t, "/nonexistent/new.toml", "diff", "--to", "/nonexistent/new.toml")
	broken := sampleWith(t, "priority = 4000", "priority = 99999")
	if code, _, errOut := runArgs("diff", "--to", broken); code != 2 || !strings.Contains(errOut, "priority") {
		t.Errorf("broken --to: exit %d, %q", code, errOut)
	}
}

func TestMatrixCommand(t *testing.T) {
	code, out, errOut := runArgs("matrix", "--protocol", "tcp", "--port", "22", "--vms", "web-0*,jump")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, " 1  web-01     · ✓ ✓\n 2  web-02     ✓ · ✓\n 3  jump-01    ✓ ✓ ·\n") {
		t.Errorf("grid:\n%s", out)
	}
	code, out, _ = runArgs("matrix", "--protocol", "icmp", "-o", "json")
	var v struct {
		Protocol string
		VMs      []struct{ Name, State string }
		Cells    []struct {
			From, To, Access string
			Outbound         struct{ Rule string }
		}
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Protocol != "ICMP" || len(v.VMs) != 7 || len(v.Cells) != 30 {
		t.Errorf("json: exit %d %v, %d VMs %d cells", code, err, len(v.VMs), len(v.Cells))
	}
	badInput(t, "--port is required for TCP", "matrix", "--protocol", "tcp")
	badInput(t, `--port "1-3": must be one port`, "matrix", "--protocol", "tcp", "--port", "1-3")
	badInput(t, `--port "22": ICMP has no ports`, "matrix", "--protocol", "icmp", "--port", "22")
	badInput(t, "--protocol is required", "matrix")
	badInput(t, `--vms: "zzz" matches no VM`, "matrix", "--protocol", "icmp", "--vms", "zzz")
}

func TestLintCommand(t *testing.T) {
	code, out, errOut := runArgs("lint")
	if code != 1 || errOut != "" {
		t.Fatalf("sample: exit %d (want 1: an error-level finding), stderr %q", code, errOut)
	}
	for _, w := range []string{"embedded/sample.toml:327: error: exposure: no NSG on the subnet or the NIC allows every TCP/UDP port from the Internet to running VM(s) jump-01\n",
		"embedded/sample.toml:211: warning: matches-nothing: securityRules/deny-internet-out in NSG egress-nsg matches no flow", "1 error(s), 1 warning(s), 0 note(s)\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("lint lacks %q:\n%s", w, out)
		}
	}
	lint := filepath.Join("..", "..", "analysis", "testdata", "lint.toml")
	if code, _, _ := runArgs("lint", "-f", lint, "--fail-on", "error"); code != 1 {
		t.Errorf("--fail-on error with an exposure: exit %d", code)
	}
	code, out, _ = runArgs("lint", "-f", lint, "-o", "sarif")
	var log struct {
		Version string
		Runs    []struct {
			Tool    struct{ Driver struct{ Name string } }
			Results []struct {
				RuleID, Level string
				Message       struct{ Text string }
				Locations     []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || code != 1 || log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "ipflow" {
		t.Fatalf("sarif: exit %d, %v\n%s", code, err, out)
	}
	found := false
	for _, r := range log.Runs[0].Results {
		l := r.Locations[0].PhysicalLocation
		if r.RuleID == "shadowed" && r.Level == "warning" && l.ArtifactLocation.URI == lint && l.Region.StartLine == 60 {
			found = true
		}
	}
	if !found {
		t.Errorf("sarif has no shadowed warning at %s:60:\n%s", lint, out)
	}
	code, out, _ = runArgs("lint", "-f", lint, "-o", "json")
	var v struct {
		Findings []struct{ Kind, Severity, Subject, File string }
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 || len(v.Findings) < 8 {
		t.Errorf("json: exit %d %v\n%s", code, err, out)
	}
	badInput(t, `--fail-on "bad": must be note, warning or error`, "lint", "--fail-on", "bad")
	badInput(t, `-o "xml": must be text or json or sarif`, "lint", "-o", "xml")
}

func TestLintFailOnThreshold(t *testing.T) {
	dir := t.TempDir()
	write := func(name, extra string) string {
		p := filepath.Join(dir, name)
		src := "[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n  [[vnet.subnet]]\n  name = \"s\"\n  prefix = \"10.0.1.0/24\"\n  nsg = \"n\"\n" +
			"[[nsg]]\nname = \"n\"\n[[vm]]\nname = \"vm\"\n  [[vm.nic]]\n  name = \"nic\"\n  private_ip = \"10.0.1.4\"\n  subnet = \"v/s\"\n" + extra
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := write("clean.toml", "")
	if code, out, _ := runArgs("lint", "-f", clean); code != 0 || out != "No findings.\n" {
		t.Errorf("clean estate: exit %d %q", code, out)
	}
	notes := write("notes.toml", "[[asg]]\nname = \"lonely\"\n")
	code, out, _ := runArgs("lint", "-f", notes)
	if code != 0 || !strings.Contains(out, "note: empty-asg: ASG lonely has no members") {
		t.Errorf("notes only, --fail-on error: exit %d:\n%s", code, out)
	}
	if code, _, _ := runArgs("lint", "-f", notes, "--fail-on", "warning"); code != 0 {
		t.Errorf("--fail-on warning: exit %d", code)
	}
	if code, _, _ := runArgs("lint", "-f", notes, "--fail-on", "note"); code != 1 {
		t.Errorf("--fail-on note: exit %d", code)
	}
}
