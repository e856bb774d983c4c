package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(base))
	for _, s := range []string{
		"[[nsg]]\nname = \"n\"\nrule = [{ name = \"a\", priority = 100, direction = \"Inbound\", access = \"Allow\", protocol = \"Tcp\", source = \"*\", destination = \"*\" }]\n",
		"[service_tags]\n\"A.b\" = [\"1.2.3.0/24\"]\n[[admin_rule]]\nname = \"x\"\npriority = 1\ndirection = \"Outbound\"\naccess = \"AlwaysAllow\"\nprotocol = \"Any\"\nsource = \"a.B\"\ndestination = [\"10.0.0.0/8\", \"Internet\"]\n",
		"[[vm]]\nname = \"m\"\n[[vm.nic]]\nname = \"n\"\n[[vm.nic.ip_config]]\nprivate_ip = \"10.0.1.9\"\nsubnet = \"base/web\"\n",
		"a = \"\"\"\n[[vm]]\n\"\"\"\n[[vm]]\nname = 'x'\n",
		"[environment]\nname = \"\\u001b[2J\"\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzLoad: Load never panics; a failure is a *LoadError with at least one error; a success is
// a fully linked environment that keeps the documented invariants.
func FuzzLoad(f *testing.F) {
	fuzzSeeds(f)
	recoverPanics = false
	defer func() { recoverPanics = true }()
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Load(Source{Name: "fuzz.toml", Data: data}, Source{Name: "base.toml", Data: []byte(base)})
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Errors) == 0 {
				t.Fatalf("error without issues: %#v", err)
			}
			for _, r := range le.Error() {
				if r < 0x20 && r != '\n' || r == 0x7f {
					t.Fatalf("raw control character %q in %q", r, le.Error())
				}
			}
			return
		}
		checkInvariants(t, env)
	})
}

func checkInvariants(t *testing.T, env *Environment) {
	t.Helper()
	side := func(r *Rule, s Side, what string) {
		if (len(s.Addresses) == 0) == (len(s.ASGs) == 0) {
			t.Fatalf("rule %q %s: exactly one of addresses and ASGs must be set: %+v", r.Name, what, s)
		}
		if len(s.Ports) == 0 {
			t.Fatalf("rule %q %s: no ports", r.Name, what)
		}
		for _, p := range s.Ports {
			if p.Lo > p.Hi {
				t.Fatalf("rule %q %s: port range %v", r.Name, what, p)
			}
		}
		for _, a := range s.Addresses {
			if a.Kind == PrefixAddress && (!a.Prefix.Addr().Is4() || a.Prefix.Masked() != a.Prefix) {
				t.Fatalf("rule %q %s: prefix %v", r.Name, what, a.Prefix)
			}
		}
	}
	for _, g := range env.NSGs {
		for _, r := range g.Rules {
			if r.Priority < 100 || r.Priority > 4096 || r.Kind != CustomRule || r.Access == AlwaysAllow {
				t.Fatalf("rule %+v", r)
			}
			side(r, r.Source, "source")
			side(r, r.Destination, "destination")
		}
	}
	for _, a := range env.AdminRules {
		if a.Priority < 1 || a.Priority > 4096 || a.Kind != AdminRuleKind || len(a.Source.ASGs)+len(a.Destination.ASGs) > 0 {
			t.Fatalf("admin rule %+v", a)
		}
		side(&a.Rule, a.Source, "source")
		side(&a.Rule, a.Destination, "destination")
		if a.VNets != nil && len(a.VNets) == 0 {
			t.Fatalf("admin rule %q: empty non-nil VNets", a.Name)
		}
	}
	for _, v := range env.VNets {
		if len(v.AddressSpace) == 0 {
			t.Fatalf("vnet %q without address space", v.Name)
		}
		for _, p := range v.Peers {
			if p == v {
				t.Fatalf("vnet %q peers with itself", v.Name)
			}
		}
		for _, s := range v.Subnets {
			if s.VNet != v || !s.Prefix.IsValid() {
				t.Fatalf("subnet %+v", s)
			}
		}
	}
	for _, vm := range env.VMs {
		if len(vm.NICs) == 0 {
			t.Fatalf("vm %q without NIC", vm.Name)
		}
		primaries := 0
		for _, n := range vm.NICs {
			if n.VM != vm || len(n.IPConfigs) == 0 {
				t.Fatalf("nic %+v", n)
			}
			if n.Primary {
				primaries++
			}
			pc := 0
			for _, c := range n.IPConfigs {
				if c.NIC != n || c.Subnet == nil || !c.Subnet.Prefix.Contains(c.PrivateIP) || c.Subnet.VNet != n.IPConfigs[0].Subnet.VNet {
					t.Fatalf("ip config %+v", c)
				}
				if c.Primary {
					pc++
				}
			}
			if pc != 1 {
				t.Fatalf("nic %q has %d primary IP configurations", n.Name, pc)
			}
		}
		if primaries != 1 {
			t.Fatalf("vm %q has %d primary NICs", vm.Name, primaries)
		}
	}
	for _, a := range env.ASGs {
		for _, m := range a.Members {
			if m.Subnet.VNet != a.Members[0].Subnet.VNet {
				t.Fatalf("asg %q spans VNets", a.Name)
			}
		}
	}
	for _, w := range env.Warnings {
		if w.Message == "" {
			t.Fatalf("empty warning %+v", w)
		}
	}
}

// FuzzDecodeInPieces: decoding in pieces yields exactly what decoding in one piece yields.
func FuzzDecodeInPieces(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("[[vm]]\nname = \"a\"\n[[nsg]]\nname = \"n\"\n[[vm.nic]]\nname = \"x\"\n"))
	f.Add([]byte("[environment]\nname = \"a\"\n[[vm]]\nname = \"v\"\n[environment.x]\ny = 1\n"))
	f.Add([]byte("vm = [{ name = \"a\" }]\n[[nsg]]\nname = \"n\"\n[[vm]]\nname = \"b\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text := string(data)
		scanAll(indexLines(text)) // must neither panic nor hang, whatever the text
		whole, errWhole := decodeTOML(text)
		for parts := 2; parts <= 4; parts++ {
			pieces, errPieces := decodeInPieces(text, cutPoints(text, parts))
			if (errWhole == nil) != (errPieces == nil) {
				t.Fatalf("parts=%d: whole err %v, pieces err %v", parts, errWhole, errPieces)
			}
			if errWhole != nil {
				if errWhole.Error() != errPieces.Error() {
					t.Fatalf("errors differ: %v / %v", errWhole, errPieces)
				}
				continue
			}
			if a, b := fmt.Sprint(whole), fmt.Sprint(pieces); a != b {
				t.Fatalf("parts=%d: results differ:\nwhole:  %s\npieces: %s", parts, a, b)
			}
		}
	})
}

func TestCutPoints(t *testing.T) {
	text := "[environment]\nname = \"x\"\n\n[[vnet]]\nname = \"a\"\n\n[[nsg]]\nname = \"b\"\n\n[[vm]]\nname = \"c\"\n"
	cuts := cutPoints(text, 3)
	if len(cuts) != 2 {
		t.Fatalf("cuts = %v", cuts)
	}
	for _, c := range cuts {
		if !strings.HasPrefix(text[c:], "[[") || text[c-1] != '\n' {
			t.Errorf("cut at %d: %q", c, text[c:])
		}
	}
	whole, _ := decodeTOML(text)
	pieces, err := decodeInPieces(text, cuts)
	if err != nil || fmt.Sprint(whole) != fmt.Sprint(pieces) {
		t.Errorf("pieces = %v, %v", pieces, err)
	}
}

// scanAll asks every node of a line index for a key, which scans each table on demand.
func scanAll(n *lnode) {
	n.keyLine("name")
	for _, k := range n.kids {
		for _, c := range k.nodes {
			scanAll(c)
		}
	}
}
