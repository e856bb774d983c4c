package engine_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/model"
)

// notesWith returns the notes that contain substr.
func notesWith(res *engine.Result, substr string) []string {
	var out []string
	for _, n := range res.Notes {
		if strings.Contains(n, substr) {
			out = append(out, n)
		}
	}
	return out
}

func TestNoteStarSourcePortInAnyLayer(t *testing.T) {
	// The subnet NSG allows from source ports 1000-2000 only; the NIC NSG decides with a rule of
	// any source port. The * source port matched the subnet rule: the note must name it even
	// though it did not decide.
	subnet := rule("name=from-high", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "source_ports=1000-2000", "destination=*", "destination_ports=443")
	e := estate(t, subnet, allowNIC443, "")
	res, err := e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:*"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Access != model.Allow || res.RuleName() != "securityRules/allow-443" {
		t.Fatalf("verdict %s %s", res.Access, res.RuleName())
	}
	if got := notesWith(res, "source port was *"); len(got) != 1 || !strings.Contains(got[0], "securityRules/from-high matches only source ports 1000-2000") {
		t.Errorf("notes %q", res.Notes)
	}
	// A concrete source port: nothing undocumented, no note.
	res, _ = e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:1500"))
	if len(notesWith(res, "source port")) != 0 {
		t.Errorf("notes for a concrete source port: %q", res.Notes)
	}
}

func TestNotePortlessProtocolMatchedPortRule(t *testing.T) {
	anyWithPorts := rule("name=any-443", "priority=100", "direction=Inbound", "access=Allow", "protocol=*", "source=*", "destination=*", "destination_ports=443")
	e := estate(t, anyWithPorts, "", "")
	for _, p := range []string{"icmp", "esp", "ah"} {
		res, err := e.Verify(flow(t, "vm1 inbound "+p+" 10.0.1.4:0 13.107.21.200:0"))
		if err != nil {
			t.Fatal(err)
		}
		if res.RuleName() != "securityRules/any-443" {
			t.Fatalf("%s: decided by %s", p, res.RuleName())
		}
		got := notesWith(res, "Azure does not document this case")
		if len(got) != 1 || !strings.Contains(got[0], "ports were ignored") || !strings.Contains(got[0], "destination 443") {
			t.Errorf("%s: notes %q", p, res.Notes)
		}
	}
	// TCP matches the same rule by its port: documented, no note.
	res, _ := e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:5000"))
	if len(notesWith(res, "does not document")) != 0 {
		t.Errorf("TCP: notes %q", res.Notes)
	}
	// A * rule with every port: nothing undocumented.
	e = estate(t, rule("name=any", "priority=100", "direction=Inbound", "access=Allow", "protocol=*", "source=*", "destination=*"), "", "")
	res, _ = e.Verify(flow(t, "vm1 inbound icmp 10.0.1.4:0 13.107.21.200:0"))
	if len(notesWith(res, "does not document")) != 0 {
		t.Errorf("all ports: notes %q", res.Notes)
	}
}

func TestNoteSharedIPWithoutNIC(t *testing.T) {
	// Two NICs of one VM holding the same IP needs NICs in two VNets with overlapping address
	// spaces. The loader may refuse a VM across VNets, so the estate is linked by hand from two
	// loaded VMs: the engine must still say which NIC it chose.
	src := `
[[vnet]]
name = "a"
address_space = ["10.0.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"
[[vnet]]
name = "b"
address_space = ["10.0.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"
[[vm]]
name = "vm"
  [[vm.nic]]
  name = "first"
  private_ip = "10.0.1.4"
  subnet = "a/s"
[[vm]]
name = "other"
  [[vm.nic]]
  name = "second"
  private_ip = "10.0.1.4"
  subnet = "b/s"
`
	env, err := model.Load(model.Source{Name: "shared.toml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	vm, other := env.VMs[0], env.VMs[1]
	nic := other.NICs[0]
	nic.VM, vm.NICs, env.VMs = vm, append(vm.NICs, nic), env.VMs[:1]
	e := engine.Compile(env)
	res, err := e.Verify(flow(t, "vm inbound tcp 10.0.1.4:22 10.0.1.9:5000"))
	if err != nil {
		t.Fatal(err)
	}
	got := notesWith(res, "more than one NIC")
	if res.NIC.Name != "first" || len(got) != 1 || !strings.Contains(got[0], "first (the first in the VM's NIC order) was evaluated; second also holds it") {
		t.Errorf("NIC %s, notes %q", res.NIC.Name, res.Notes)
	}
	res, _ = e.Verify(flow(t, "vm inbound tcp 10.0.1.4:22 10.0.1.9:5000 second"))
	if res.NIC.Name != "second" || len(notesWith(res, "more than one NIC")) != 0 {
		t.Errorf("--nic second: NIC %s, notes %q", res.NIC.Name, res.Notes)
	}
}

func TestValidate(t *testing.T) {
	ok := engine.Flow{VM: "x", Direction: model.Inbound, Protocol: model.TCP, LocalIP: netip.MustParseAddr("10.0.0.4"), LocalPort: 443,
		RemoteIP: netip.MustParseAddr("1.2.3.4"), RemotePort: engine.AnyPort}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid flow: %v", err)
	}
	cases := []struct {
		name          string
		change        func(*engine.Flow)
		field         string
		problem, hint string
	}{
		{"any protocol", func(f *engine.Flow) { f.Protocol = model.AnyProtocol }, "protocol", "not a flow protocol", "tcp, udp, icmp, esp, ah"},
		{"bad direction", func(f *engine.Flow) { f.Direction = 7 }, "direction", "not a direction", "inbound or outbound"},
		{"no local IP", func(f *engine.Flow) { f.LocalIP = netip.Addr{} }, "local", "local address missing", "IPv4"},
		{"IPv6 remote", func(f *engine.Flow) { f.RemoteIP = netip.MustParseAddr("2001:db8::1") }, "remote", "remote address 2001:db8::1", "IPv4"},
		{"port range", func(f *engine.Flow) { f.LocalPort = 70000 }, "local", "local port 70000 is out of range", "0..65535"},
		{"* local port inbound", func(f *engine.Flow) { f.LocalPort = engine.AnyPort }, "local", "local port * is not allowed inbound", "only for the source port"},
		{"* remote port outbound", func(f *engine.Flow) {
			f.Direction, f.LocalPort, f.RemotePort = model.Outbound, engine.AnyPort, engine.AnyPort
		}, "remote", "remote port * is not allowed outbound", "only for the source port"},
	}
	for _, c := range cases {
		f := ok
		c.change(&f)
		var ie *engine.InputError
		if err := f.Validate(); !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an InputError", c.name, err)
			continue
		}
		if ie.Field != c.field || !strings.Contains(ie.Problem, c.problem) || !strings.Contains(ie.Valid, c.hint) || ie.Error() != ie.Problem+"; "+ie.Valid {
			t.Errorf("%s: %+v", c.name, ie)
		}
	}
	// Ports do not matter for a portless protocol: * anywhere is fine.
	f := ok
	f.Protocol, f.LocalPort = model.ICMP, engine.AnyPort
	if err := f.Validate(); err != nil {
		t.Errorf("ICMP with * ports: %v", err)
	}
}

func TestTitlesAndText(t *testing.T) {
	e := estate(t, allowHTTPS, "", "")
	res, err := e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:123 13.107.21.200:60000"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"NSG subnet-nsg on subnet/hub/web: denied by defaultSecurityRules/DenyAllInBound", "No NSG on networkInterface/nic1: no NSG is associated, so this level allows"}
	for i, w := range want {
		if got := res.Layers[i].Title(); got != w {
			t.Errorf("layer %d title %q, want %q", i, got, w)
		}
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{res.Summary(), "\nEvaluation\n  1. " + want[0] + "\n", "  2. " + want[1] + "\n",
		"✗   100  allow-https                    Allow  destination port 123 is not in 443, 8000-8080\n", "✓ 65500  DenyAllInBound"} {
		if !strings.Contains(out, w) {
			t.Errorf("text does not contain %q:\n%s", w, out)
		}
	}
}
