package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The README walkthrough, on the embedded sample: the scenario of Azure's IP flow verify docs.
func TestReadmeScenario(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000"},
			[]string{"Access denied\n", "Rule:  defaultSecurityRules/DenyAllInBound (priority 65500, Deny)", "NSG:   web-subnet-nsg on subnet/hub/web", "destination port 123 is not in 443", "not evaluated: NSG web-subnet-nsg on subnet/hub/web denied the flow"}},
		{[]string{"verify", "--vm", "web-01", "--direction", "outbound", "--protocol", "tcp", "--local", "10.0.1.4:60000", "--remote", "13.107.21.200:443"},
			[]string{"Access allowed\n", "Rule:  defaultSecurityRules/AllowInternetOutBound", "NSG:   web-subnet-nsg on subnet/hub/web"}},
		{[]string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "13.107.21.200:60000"},
			[]string{"Access allowed\n", "Rule:  securityRules/allow-https (priority 100, Allow)", "NSG:   web-nic-nsg on networkInterface/web-01-nic"}},
		{[]string{"verify", "--vm", "app-01", "--direction", "Inbound", "--protocol", "TCP", "--local", "10.1.1.4:8080", "--remote", "10.0.1.5:50000"},
			[]string{"Access allowed\n", "securityRules/allow-web-to-app", "source 10.0.1.5 is in ASG web (ipconfig1 of web-02-nic is a member)"}},
		{[]string{"verify", "--vm", "app-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.1.1.4:8080", "--remote", "10.0.1.6:50000"},
			[]string{"Access denied\n", "securityRules/deny-vnet-inbound", "source 10.0.1.6 is not in ASG web"}},
	}
	for _, c := range cases {
		code, out, errOut := runArgs(c.args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output does not contain %q:\n%s", c.args, w, out)
			}
		}
	}
}

func TestVerifyJSON(t *testing.T) {
	code, out, _ := runArgs("verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out, `{"access":"Deny","ruleName":"defaultSecurityRules/DenyAllInBound","networkSecurityGroup":"web-subnet-nsg","appliedTo":"subnet/hub/web",`) {
		t.Errorf("JSON starts %.160s", out)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %v", err)
	}
	if n := len(v["evaluated"].([]any)); n != 3 {
		t.Errorf("%d layers evaluated, want admin, subnet, NIC", n)
	}
}

func TestVerifyErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--vm", "web-1", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:1", "--remote", "1.1.1.1:1"}, `unknown VM "web-1" (did you mean "web-01"?); known VMs: web-01`},
		{[]string{"verify", "--vm", "batch-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.1.1.10:1", "--remote", "1.1.1.1:1"}, "IP flow verify requires that the VM is allocated"},
		{[]string{"verify", "--vm", "web-01", "--direction", "in", "--protocol", "tcpx", "--local", "10.0.1.4", "--remote", "1.1.1.1:1"}, `--direction: "in": must be inbound or outbound; --protocol: "tcpx": must be tcp, udp, icmp, esp or ah; --local: "10.0.1.4": must be IP:PORT`},
		{[]string{"verify", "--vm", "web-01"}, "--direction is required; --protocol is required; --local is required; --remote is required"},
		{[]string{"verify", "--bogus"}, "ipflow verify: flag provided but not defined: -bogus"},
		{[]string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:1", "--remote", "1.1.1.1:1", "-o", "yaml"}, `-o "yaml": must be text or json`},
		{[]string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:*", "--remote", "1.1.1.1:1"}, "local port * is not allowed inbound"},
		{[]string{"verify", "-f", "/nonexistent/env.toml", "--vm", "x", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:1", "--remote", "1.1.1.1:1"}, "/nonexistent/env.toml"},
		{[]string{"verfy"}, `unknown command "verfy"; commands are verify, test, check, import, rules, reach, matrix, lint, diff, serve, version (did you mean "verify"?)`},
		{[]string{"verify", "--vm", "web-01\x1b[31m", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:1", "--remote", "1.1.1.1:1"}, `unknown VM "web-01\x1b[31m"`},
	}
	for _, c := range cases {
		code, out, errOut := runArgs(c.args...)
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want 2 and nothing on stdout", c.args, code, out)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%q: stderr %q\n does not contain %q", c.args, errOut, c.want)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%q: want one line on stderr, got %q", c.args, errOut)
		}
		if strings.Contains(errOut, "\x1b[") {
			t.Errorf("%q: raw escape sequence on stderr: %q", c.args, errOut)
		}
	}
}

func TestCheck(t *testing.T) {
	code, out, errOut := runArgs("check")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "contoso-westeurope: OK: 4 VNets, 6 subnets, 5 NSGs") || !strings.Contains(out, "0 warnings") {
		t.Errorf("check on the sample: exit %d, %q %q", code, out, errOut)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "env.toml")
	os.WriteFile(bad, []byte("[[nsg]]\nname = \"n\"\n[[nsg.rule]]\nname = \"r\"\npriority = 50\ndirection = \"Inbound\"\naccess = \"Allow\"\nprotocol = \"Tcp\"\nsource = \"*\"\ndestination = \"*\"\ndestination_port = \"443\"\n"), 0o644)
	code, out, errOut = runArgs("check", "-f", dir)
	if code != 1 || out != "" {
		t.Errorf("check with errors: exit %d stdout %q", code, out)
	}
	for _, w := range []string{"env.toml:", "priority 50", `destination_port`, "did you mean"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("check errors %q\n do not mention %q", errOut, w)
		}
	}
	// verify on invalid fixtures exits 2, with the same errors.
	code, _, errOut2 := runArgs("verify", "-f", bad, "--vm", "x", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:1", "--remote", "1.1.1.1:1")
	if code != 2 || !strings.Contains(errOut2, "priority 50") {
		t.Errorf("verify on invalid fixtures: exit %d, %q", code, errOut2)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runArgs("version")
	if code != 0 || !strings.HasPrefix(out, "ipflow ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// The UI's loader is told the files and bytes read after each file, then "linking".
func TestReadEstateProgressPerFile(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile("../../fixtures/sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The sample split in two files at its first [[nsg]]: the estate needs both.
	cut := bytes.Index(sample, []byte("\n[[nsg]]"))
	if cut < 0 {
		t.Fatal("no [[nsg]] in the sample")
	}
	a, b := sample[:cut+1], sample[cut+1:]
	for name, data := range map[string][]byte{"a.toml": a, "b.toml": b} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	env, err := readEstate([]string{dir}, func(stage string, files int, n int64) {
		got = append(got, fmt.Sprintf("%s %d %d", stage, files, n))
	})
	if err != nil || env == nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("reading 1 %d", len(a)),
		fmt.Sprintf("reading 2 %d", len(sample)),
		fmt.Sprintf("linking 2 %d", len(sample)),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("progress %q, want %q", got, want)
	}
}
