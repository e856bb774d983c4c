package effective

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
)

// randomEstate is a small estate whose rule "probe" (priority 100, in an NSG on both the
// subnet and the NIC of vm-0) has a random side: a tag, an ASG, a prefix or *. VNets peer at
// random, have on-premises prefixes and routes, so VirtualNetwork and Internet differ per NIC.
func randomEstate(rng *rand.Rand, side string) string {
	var b strings.Builder
	b.WriteString("[service_tags]\n\"Custom.Tag\" = [\"20.38.96.0/19\", \"52.1.0.0/16\"]\n\n")
	n := 2 + rng.IntN(3)
	for v := range n {
		fmt.Fprintf(&b, "[[vnet]]\nname = \"v%d\"\naddress_space = [\"10.%d.0.0/16\"]\n", v, v)
		var peers []string
		for p := v + 1; p < n; p++ {
			if rng.IntN(2) == 0 {
				peers = append(peers, fmt.Sprintf("%q", fmt.Sprintf("v%d", p)))
			}
		}
		if len(peers) > 0 {
			fmt.Fprintf(&b, "peerings = [%s]\n", strings.Join(peers, ", "))
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "onprem_prefixes = [\"192.168.%d.0/24\"]\n", v)
		}
		fmt.Fprintf(&b, "\n  [[vnet.subnet]]\n  name = \"s\"\n  prefix = \"10.%d.1.0/24\"\n  nsg = \"probe-nsg\"\n", v)
		switch rng.IntN(4) {
		case 0:
			b.WriteString("  routes = [\"0.0.0.0/0\"]\n")
		case 1:
			b.WriteString("  routes = [\"100.64.0.0/10\", \"8.8.8.0/24\"]\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("[[asg]]\nname = \"a\"\n\n[[asg]]\nname = \"empty\"\n\n")
	fmt.Fprintf(&b, "[[nsg]]\nname = \"probe-nsg\"\n\n  [[nsg.rule]]\n  name = \"probe\"\n  priority = 100\n  direction = %q\n  access = \"Allow\"\n  protocol = \"*\"\n%s\n",
		[]string{"Inbound", "Outbound"}[rng.IntN(2)], side)
	// ASG members must share a VNet: v0's VMs may be members, the others never.
	for v := range n + 2 {
		vnet, host, asgs := v, 4, ""
		if v >= n {
			vnet, host = 0, 5+v-n
		}
		if vnet == 0 && (v == 0 || rng.IntN(2) == 0) {
			asgs = "asgs = [\"a\"]\n"
		}
		fmt.Fprintf(&b, "[[vm]]\nname = \"vm-%d\"\n\n  [[vm.nic]]\n  name = \"nic-%d\"\n  nsg = \"probe-nsg\"\n  private_ip = \"10.%d.1.%d\"\n  subnet = \"v%d/s\"\n  %s\n", v, v, vnet, host, vnet, asgs)
	}
	return b.String()
}

var sides = []string{
	`  source = "VirtualNetwork"` + "\n  destination = \"*\"",
	`  source = "Internet"` + "\n  destination = \"VirtualNetwork\"",
	`  source = "AzureLoadBalancer"` + "\n  destination = \"Internet\"",
	`  source = "Custom.Tag"` + "\n  destination = \"10.0.0.0/8\"",
	`  source_asgs = ["a"]` + "\n  destination = \"*\"",
	`  source = "*"` + "\n  destination_asgs = [\"a\"]",
	`  source_asgs = ["empty"]` + "\n  destination_asgs = [\"a\"]",
	`  source = ["10.1.0.0/16", "8.8.8.8"]` + "\n  destination = \"VirtualNetwork\"",
}

// Every expanded side holds exactly the addresses the engine matches: for random estates, a
// rule's source and destination are checked by engine.Verify at random addresses and at both
// ends (±1) of every expanded prefix, and membership must agree every time.
func TestExpansionAgreesWithVerify(t *testing.T) {
	checks := 0
	for seed := range 60 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		src := randomEstate(rng, sides[seed%len(sides)])
		env, err := model.Load(model.Source{Name: "random.toml", Data: []byte(src)})
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, src)
		}
		eng := engine.Compile(env)
		vm := env.VMs[0]
		nic := vm.NICs[0]
		ipc := nic.PrimaryIPConfig()
		rule := env.NSGs[0].Rules[0]
		e := NewExpander(env, ipc).Rule(rule)
		remoteItems, localItems := e.ExpandedSource, e.ExpandedDestination
		if rule.Direction == model.Outbound {
			remoteItems, localItems = e.ExpandedDestination, e.ExpandedSource
		}
		var addrs []netip.Addr
		for range 200 {
			addrs = append(addrs, from32(rng.Uint32()))
		}
		for _, it := range append(append([]Item{}, remoteItems...), Item{Prefix: netip.MustParsePrefix("10.0.0.0/8")}) {
			lo := u32(it.Prefix.Masked().Addr())
			hi := lo + uint32(uint64(1)<<(32-it.Prefix.Bits())-1)
			addrs = append(addrs, from32(lo), from32(lo-1), from32(hi), from32(hi+1))
		}
		for _, a := range addrs {
			res, err := eng.Verify(engine.Flow{VM: vm.Name, NIC: nic.Name, Direction: rule.Direction, Protocol: model.TCP,
				LocalIP: ipc.PrivateIP, LocalPort: 80, RemoteIP: a, RemotePort: 80})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			lt := &res.Layers[0]
			if lt.NSG == nil || lt.Rules()[0] != rule || len(lt.Tried) == 0 {
				t.Fatalf("seed %d: the probe rule is not tried first: %s", seed, lt.Title())
			}
			remoteField, localField := engine.FieldSource, engine.FieldDestination
			if rule.Direction == model.Outbound {
				remoteField, localField = engine.FieldDestination, engine.FieldSource
			}
			if got, want := Contains(remoteItems, a), lt.Tried[0].Has(remoteField); got != want {
				t.Fatalf("seed %d: remote %s: expansion says %v, Verify %v\nitems %v\n%s", seed, a, got, want, remoteItems, src)
			}
			if got, want := Contains(localItems, ipc.PrivateIP), lt.Tried[0].Has(localField); got != want {
				t.Fatalf("seed %d: local %s: expansion says %v, Verify %v\nitems %v", seed, ipc.PrivateIP, got, want, localItems)
			}
			checks++
		}
	}
	t.Logf("%d addresses checked", checks)
}

func TestComplementIsExactAndMinimal(t *testing.T) {
	ps := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("0.0.0.0/1")}
	got := Complement(ps)
	want := []string{"128.0.0.0/1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("complement %v, want %v", got, want)
	}
	if got := Complement(nil); fmt.Sprint(got) != "[0.0.0.0/0]" {
		t.Fatalf("complement of nothing %v", got)
	}
	if got := Complement([]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}); len(got) != 0 {
		t.Fatalf("complement of everything %v", got)
	}
	got = Complement([]netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")})
	for _, a := range []string{"10.0.0.0", "10.0.0.2", "0.0.0.0", "255.255.255.255"} {
		if !Contains(itemsOf(got), netip.MustParseAddr(a)) {
			t.Fatalf("%s missing from %v", a, got)
		}
	}
	if Contains(itemsOf(got), netip.MustParseAddr("10.0.0.1")) || len(got) != 32 {
		t.Fatalf("complement of one address: %d prefixes %v", len(got), got)
	}
}

func itemsOf(ps []netip.Prefix) []Item {
	out := make([]Item, len(ps))
	for i, p := range ps {
		out[i] = Item{Prefix: p}
	}
	return out
}

// On the sample: web-01's effective rules in Azure's order, VirtualNetwork with its origins.
func TestForNICOnTheSample(t *testing.T) {
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.Compile(env)
	var nic *model.NIC
	for _, vm := range env.VMs {
		if vm.Name == "web-01" {
			nic = vm.NICs[0]
		}
	}
	eff, err := ForNIC(eng, nic, nil)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, d := range eff.Directions {
		for _, l := range d.Layers {
			labels = append(labels, d.Direction.String()+": "+l.Label())
		}
	}
	want := []string{
		"Inbound: Security admin rules on virtualNetwork/hub",
		"Inbound: NSG web-subnet-nsg on subnet/hub/web",
		"Inbound: NSG web-nic-nsg on networkInterface/web-01-nic",
		"Outbound: Security admin rules on virtualNetwork/hub",
		"Outbound: NSG web-nic-nsg on networkInterface/web-01-nic",
		"Outbound: NSG web-subnet-nsg on subnet/hub/web",
	}
	if strings.Join(labels, "\n") != strings.Join(want, "\n") {
		t.Fatalf("layers:\n%s\nwant:\n%s", strings.Join(labels, "\n"), strings.Join(want, "\n"))
	}
	vnet := VirtualNetwork(eff.IPConfig.Subnet)
	var got []string
	for _, it := range vnet {
		got = append(got, it.Prefix.String()+" "+it.From)
	}
	for _, w := range []string{"10.0.0.0/16 VirtualNetwork: VNet hub", "10.1.0.0/16 VirtualNetwork: peered VNet spoke-app",
		"192.168.0.0/16 VirtualNetwork: on-premises of VNet hub", "168.63.129.16/32 VirtualNetwork: the Azure host"} {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Fatalf("VirtualNetwork lacks %q:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// A side that holds no address for the NIC says why: the NIC is not in the ASG of its own side,
// the ASG has no members, Internet is empty under a default route, a service tag is empty.
func TestEmptySidesSayWhy(t *testing.T) {
	env := model.MustLoad(fixtures.Sample()...)
	eng := engine.Compile(env)
	find := func(vm, nic string) *model.NIC {
		for _, v := range env.VMs {
			for _, n := range v.NICs {
				if v.Name == vm && n.Name == nic {
					return n
				}
			}
		}
		t.Fatalf("no %s/%s", vm, nic)
		return nil
	}
	eff, err := ForNIC(eng, find("app-01", "app-01-egress-nic"), nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range eff.Directions {
		for _, l := range d.Layers {
			for _, r := range l.Rules {
				if r.Name == "deny-internet-out" {
					found = true
					if len(r.ExpandedDestination) != 0 || !strings.Contains(r.EmptyDestination, "Internet is empty here") {
						t.Errorf("deny-internet-out: %v, %q", r.ExpandedDestination, r.EmptyDestination)
					}
				}
				if len(r.ExpandedSource) > 0 && r.EmptySource != "" || len(r.ExpandedDestination) > 0 && r.EmptyDestination != "" {
					t.Errorf("%s: a reason for a side that holds addresses", r.Name)
				}
			}
		}
	}
	if !found {
		t.Fatal("deny-internet-out is not among app-01-egress-nic's rules")
	}

	// ASG sides, and a declared tag with no prefixes.
	var web, app *model.ASG
	for _, a := range env.ASGs {
		switch a.Name {
		case "web":
			web = a
		case "app":
			app = a
		}
	}
	ipc := find("web-01", "web-01-nic").PrimaryIPConfig()
	x := NewExpander(env, ipc)
	rule := func(dir model.Direction, dst model.Side) Rule {
		return x.Rule(&model.Rule{Name: fmt.Sprint(dir, len(dst.ASGs), len(dst.Addresses)), Direction: dir, Source: model.Side{Addresses: []model.Address{{Kind: model.AnyAddress}}}, Destination: dst})
	}
	if r := rule(model.Inbound, model.Side{ASGs: []*model.ASG{app}}); !strings.Contains(r.EmptyDestination, "web-01-nic ipconfig1 is not a member of ASG app") {
		t.Errorf("own side, not a member: %q", r.EmptyDestination)
	}
	if r := rule(model.Inbound, model.Side{ASGs: []*model.ASG{web}}); len(r.ExpandedDestination) != 1 || r.EmptyDestination != "" {
		t.Errorf("own side, a member: %v %q", r.ExpandedDestination, r.EmptyDestination)
	}
	empty := &model.ASG{Name: "empty"}
	if r := rule(model.Outbound, model.Side{ASGs: []*model.ASG{empty}}); r.EmptyDestination != "ASG empty has no members" {
		t.Errorf("remote side, no members: %q", r.EmptyDestination)
	}
	env.ServiceTags["Tag.Empty"] = nil
	defer delete(env.ServiceTags, "Tag.Empty")
	if r := rule(model.Outbound, model.Side{Addresses: []model.Address{{Kind: model.TagAddress, Tag: "Tag.Empty"}}}); r.EmptyDestination != "service tag Tag.Empty holds no prefix" {
		t.Errorf("empty tag: %q", r.EmptyDestination)
	}
}
