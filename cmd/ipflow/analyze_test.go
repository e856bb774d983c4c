package main

import (
	"encoding/json"
	"strings"
	"testing"
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
	for _, w := range []string{"Inbound TCP port 8080 to app-01 / app-01-nic", "securityRules/allow-web-to-app (priority 100, Allow) in NSG app-subnet-nsg on subnet/spoke-app/app\n    from 10.0.1.4/31\n      remote ports *, local ports 8080\n      holds VMs web-01 (10.0.1.4), web-02 (10.0.1.5)\n", "\nDenied\n"} {
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
