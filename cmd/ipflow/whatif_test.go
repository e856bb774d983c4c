package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ntpChange = `[[change]]
op = "add"
nsg = "web-subnet-nsg"
  [change.rule]
  name = "allow-ntp-from-contoso"
  priority = 3990
  direction = "Inbound"
  access = "Allow"
  protocol = "Udp"
  source = "13.107.21.200"
  destination = "10.0.1.4"
  destination_ports = "123"

[[change]]
op = "add"
nsg = "web-nic-nsg"
  [change.rule]
  name = "allow-ntp-from-contoso"
  priority = 3990
  direction = "Inbound"
  access = "Allow"
  protocol = "Udp"
  source = "13.107.21.200"
  destination = "10.0.1.4"
  destination_ports = "123"
`

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var ntpFlow = []string{"--vm", "web-01", "--direction", "inbound", "--protocol", "udp", "--local", "10.0.1.4:123", "--remote", "13.107.21.200:60000"}

func TestVerifyWhatIf(t *testing.T) {
	p := writeTemp(t, "ntp.toml", ntpChange)
	code, out, errOut := runArgs(append([]string{"verify"}, ntpFlow...)...)
	if code != 0 || !strings.HasPrefix(out, "Access denied") {
		t.Fatalf("without the what-if: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runArgs(append([]string{"verify", "--what-if", p}, ntpFlow...)...)
	if code != 0 || !strings.HasPrefix(out, "WHAT-IF: 2 changes from "+p+" applied") || !strings.Contains(out, "\nAccess allowed\nRule:  securityRules/allow-ntp-from-contoso") {
		t.Fatalf("with the what-if: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runArgs(append([]string{"verify", "--what-if", p, "-o", "json"}, ntpFlow...)...)
	var j struct {
		WhatIf struct {
			Files   []string
			Changes []string
		}
		Access string `json:"access"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("json: %v %d %s", err, code, out)
	}
	if j.Access != "Allow" || len(j.WhatIf.Changes) != 2 || j.WhatIf.Files[0] != p {
		t.Fatalf("json: %+v", j)
	}
}

func TestVerifyWhatIfErrors(t *testing.T) {
	p := writeTemp(t, "bad.toml", "[[change]]\nop = \"remove\"\nnsg = \"web-nic-nsgg\"\nname = \"x\"\n")
	code, out, errOut := runArgs(append([]string{"verify", "--what-if", p}, ntpFlow...)...)
	want := "error: " + p + `:3: change #1: nsg: no nsg named "web-nic-nsgg"; did you mean "web-nic-nsg"?`
	if code != 2 || out != "" || !strings.Contains(errOut, want) || !strings.Contains(errOut, "1 error(s) in the change set; nothing was evaluated") {
		t.Fatalf("%d %q\n%s", code, out, errOut)
	}
	code, _, errOut = runArgs(append([]string{"verify", "--what-if", filepath.Join(t.TempDir(), "missing.toml")}, ntpFlow...)...)
	if code != 2 || !strings.Contains(errOut, "missing.toml") {
		t.Fatalf("%d %s", code, errOut)
	}
}

func TestDiffWhatIf(t *testing.T) {
	p := writeTemp(t, "ntp.toml", ntpChange)
	code, out, errOut := runArgs("diff", "--what-if", p)
	if code != 1 || !strings.HasPrefix(out, "WHAT-IF: 2 changes") ||
		!strings.Contains(out, "web-01 / web-01-nic (10.0.1.4, subnet hub/web), inbound: 1 change(s)\n  UDP from 13.107.21.200/32 (remote ports *, local ports 123)\n") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runArgs("diff", "--what-if", p, "-o", "json")
	var j struct {
		WhatIf  struct{ Changes []string }
		Changed bool
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 1 || !j.Changed || len(j.WhatIf.Changes) != 2 {
		t.Fatalf("%v %d %s", err, code, out)
	}
	if code, _, errOut := runArgs("diff"); code != 2 || !strings.Contains(errOut, "--to or --what-if is required") {
		t.Fatalf("%d %s", code, errOut)
	}
}

// verify --suggest -o json: every suggestion's change set, given back to --what-if, flips the
// verdict; its blast radius is what diff --what-if reports.
func TestVerifySuggestJSON(t *testing.T) {
	code, out, errOut := runArgs(append([]string{"verify", "--suggest", "-o", "json"}, ntpFlow...)...)
	var j struct {
		Access      string `json:"access"`
		Suggestions []struct {
			Summary     string            `json:"summary"`
			Kind        string            `json:"kind"`
			Changes     string            `json:"changes"`
			Az          []string          `json:"az"`
			BlastRadius []json.RawMessage `json:"blastRadius"`
			Flows       json.Number       `json:"flowsAffected"`
		} `json:"suggestions"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || j.Access != "Deny" || len(j.Suggestions) < 3 {
		t.Fatalf("%v %d %s %s", err, code, out, errOut)
	}
	for i, s := range j.Suggestions {
		p := writeTemp(t, "s.toml", s.Changes)
		code, out, errOut := runArgs(append([]string{"verify", "--what-if", p, "-o", "json"}, ntpFlow...)...)
		var v struct{ Access string }
		if json.Unmarshal([]byte(out), &v) != nil || code != 0 || v.Access != "Allow" {
			t.Fatalf("suggestion %d (%s): %d %s %s", i+1, s.Summary, code, out, errOut)
		}
		code, out, _ = runArgs("diff", "--what-if", p, "-o", "json")
		var d struct {
			NICs []struct {
				Changes []json.RawMessage
			} `json:"nics"`
		}
		if json.Unmarshal([]byte(out), &d) != nil || code != 1 || len(d.NICs) != 1 || len(d.NICs[0].Changes) != len(s.BlastRadius) {
			t.Fatalf("suggestion %d: diff --what-if reports %s; the blast radius has %d boxes", i+1, out, len(s.BlastRadius))
		}
		if len(s.Az) != 2 || !strings.HasPrefix(s.Az[0], "az network nsg rule create --resource-group '<resource-group>' --nsg-name web-subnet-nsg") {
			t.Fatalf("az: %q", s.Az)
		}
	}
	if j.Suggestions[0].Kind != "add" || j.Suggestions[0].Flows.String() != "65536" {
		t.Fatalf("first: %+v", j.Suggestions[0])
	}
}

func TestVerifySuggestText(t *testing.T) {
	code, out, errOut := runArgs(append([]string{"verify", "--suggest"}, ntpFlow...)...)
	if code != 0 || !strings.HasPrefix(out, "Access denied") || !strings.Contains(out, "\nSuggestions: 3 ways to allow this flow, smallest first\n") ||
		!strings.Contains(out, "   Blast radius: 65,536 flows in 1 box(es) on 1 NIC direction(s)\n     opens UDP from 13.107.21.200/32 (remote ports *, local ports 123) on web-01 / web-01-nic (10.0.1.4, subnet hub/web), inbound\n") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
}

// reach, rules and lint take --what-if and say so, in text and JSON.
func TestWhatIfOnAnalyses(t *testing.T) {
	p := writeTemp(t, "ntp.toml", ntpChange)
	code, out, errOut := runArgs("reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "udp", "--port", "123", "--what-if", p)
	if code != 0 || !strings.HasPrefix(out, "WHAT-IF: 2 changes") || !strings.Contains(out, "securityRules/allow-ntp-from-contoso (priority 3990, Allow) in NSG web-nic-nsg") {
		t.Fatalf("reach: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runArgs("reach", "--vm", "web-01", "--direction", "inbound", "--protocol", "udp", "--port", "123")
	if code != 0 || strings.Contains(out, "allow-ntp-from-contoso") || strings.Contains(out, "WHAT-IF") {
		t.Fatalf("reach without the what-if: %d\n%s", code, out)
	}
	code, out, errOut = runArgs("rules", "--vm", "web-01", "--direction", "inbound", "--what-if", p)
	if code != 0 || !strings.HasPrefix(out, "WHAT-IF: 2 changes") || strings.Count(out, "allow-ntp-from-contoso") != 2 {
		t.Fatalf("rules: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runArgs("rules", "--vm", "web-01", "--what-if", p, "-o", "json")
	var j struct {
		WhatIf struct{ Changes []string }
		VM     string
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || j.VM != "web-01" || len(j.WhatIf.Changes) != 2 {
		t.Fatalf("rules json: %v %d %s", err, code, out)
	}
	// A rule the change set adds that can never decide is a lint finding at the change's line.
	shadow := writeTemp(t, "shadow.toml", `[[change]]
op = "add"
nsg = "web-nic-nsg"
  [change.rule]
  name = "never"
  priority = 4000
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
  destination_ports = "443"
`)
	code, out, errOut = runArgs("lint", "--what-if", shadow)
	if !strings.HasPrefix(out, "WHAT-IF: 1 change from") || !strings.Contains(out, shadow+":4:") {
		t.Fatalf("lint: %d\n%s\n%s", code, out, errOut)
	}
}
