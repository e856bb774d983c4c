package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func TestRulesText(t *testing.T) {
	code, out, errOut := runArgs("rules", "--vm", "app-01", "--nic", "app-01-nic", "--direction", "inbound")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"Effective security rules of app-01 / app-01-nic (ipconfig1 10.1.1.4, subnet spoke-app/app)",
		"Inbound, in evaluation order",
		"  1. Security admin rules on virtualNetwork/spoke-app",
		"  2. NSG app-subnet-nsg on subnet/spoke-app/app",
		"  3. No NSG on networkInterface/app-01-nic",
		"source = ASG web: web-01-nic ipconfig1 10.0.1.4/32; ASG web: web-02-nic ipconfig1 10.0.1.5/32",
		"VirtualNetwork: peered VNet hub 10.0.0.0/16",
		"source = Internet: public, outside VirtualNetwork (",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Outbound") {
		t.Fatalf("--direction inbound printed outbound rules:\n%s", out)
	}
	// Layers in Azure's order: the subnet's NSG before the NIC's inbound.
	if strings.Index(out, "NSG app-subnet-nsg") > strings.Index(out, "No NSG on networkInterface") {
		t.Fatalf("layers out of order:\n%s", out)
	}
}

func TestRulesJSON(t *testing.T) {
	code, out, errOut := runArgs("rules", "--vm", "web-01", "-o", "json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc jsonEffective
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.NIC != "web-01-nic" || doc.PrivateIP != "10.0.1.4" || len(doc.Directions) != 2 {
		t.Fatalf("header %+v", doc)
	}
	var outbound []string
	for _, l := range doc.Directions[1].Layers {
		outbound = append(outbound, l.Kind)
	}
	if doc.Directions[1].Direction != "Outbound" || strings.Join(outbound, ",") != "admin,nic,subnet" {
		t.Fatalf("outbound layers %v", outbound)
	}
	// AllowVnetInBound's source is VirtualNetwork as web-01 sees it, prefix by prefix.
	var vnet []string
	for _, l := range doc.Directions[0].Layers {
		for _, r := range l.Rules {
			if r.Name == "AllowVnetInBound" {
				vnet = r.ExpandedSource
			}
		}
	}
	for _, want := range []string{"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "192.168.0.0/16", "168.63.129.16/32"} {
		if !strings.Contains(strings.Join(vnet, " "), want) {
			t.Fatalf("expandedSource of AllowVnetInBound %v lacks %s", vnet, want)
		}
	}
	for _, p := range vnet {
		if _, err := netip.ParsePrefix(p); err != nil {
			t.Fatalf("expandedSource item %q is not a prefix", p)
		}
	}
}

func TestRulesErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"rules"}, "--vm is required"},
		{[]string{"rules", "--vm", "web01"}, `unknown VM "web01" (did you mean "web-01"?)`},
		{[]string{"rules", "--vm", "web-01", "--nic", "nope"}, `VM "web-01" has no NIC "nope"; its NICs: web-01-nic`},
		{[]string{"rules", "--vm", "web-01", "--direction", "up"}, `--direction "up": must be inbound or outbound`},
		{[]string{"rules", "--vm", "web-01", "-o", "xml"}, `-o "xml": must be text or json`},
		{[]string{"rules", "--vm", "batch-01"}, "allocated"},
	}
	for _, c := range cases {
		code, _, errOut := runArgs(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Fatalf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// Without a terminal the UI says so in one line, names the commands for scripts, and exits 2.
// (go test's standard output is a pipe, so this is the no-terminal case.)
func TestUINeedsATerminal(t *testing.T) {
	code, out, errOut := runArgs("--vm", "web-01")
	if code != 2 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "needs a terminal") ||
		!strings.Contains(errOut, "ipflow verify") || !strings.Contains(errOut, "ssh -t") {
		t.Fatalf("stderr %q", errOut)
	}
}

// A name the user typed is escaped once in the error, the way verify escapes it: a control
// character appears as \x1b, never raw and never as a doubled backslash.
func TestRulesUnknownVMEscapedOnce(t *testing.T) {
	code, _, errOut := runArgs("rules", "--vm", "web\x1b[31m-0")
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if want := `unknown VM "web\x1b[31m-0"`; !strings.Contains(errOut, want) {
		t.Fatalf("stderr %q, want it to hold %q", errOut, want)
	}
	if strings.Contains(errOut, "\x1b") || strings.Contains(errOut, `\\x1b`) {
		t.Fatalf("stderr %q: raw or doubly escaped", errOut)
	}
}
