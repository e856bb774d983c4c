package engine_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/internal/randestate"
	"ipflow/model"
)

// refDecide is a deliberately naive evaluator written straight from Azure's documented rules over the model's
// types (netip.Prefix.Contains, linear scans, no compilation). The compiled engine must agree
// with it on every flow.
func refDecide(env *model.Environment, f engine.Flow) (model.Access, string, bool) {
	a, name, _, ok := refEval(env, f)
	return a, name, ok
}

// refEval is refDecide that also returns the naive five checks of any rule, for traces.
func refEval(env *model.Environment, f engine.Flow) (model.Access, string, func(*model.Rule) engine.Fields, bool) {
	var vm *model.VM
	for _, v := range env.VMs {
		if v.Name == f.VM {
			vm = v
		}
	}
	if vm == nil || !vm.PowerState.Allocated() {
		return 0, "", nil, false
	}
	var ipc *model.IPConfig
	for _, n := range vm.NICs {
		for _, c := range n.IPConfigs {
			if c.PrivateIP == f.LocalIP && (f.NIC == "" || f.NIC == n.Name) && ipc == nil {
				ipc = c
			}
		}
	}
	if ipc == nil {
		return 0, "", nil, false
	}
	v := ipc.Subnet.VNet
	vnet := append(slices.Clone(v.AddressSpace), v.OnPremPrefixes...)
	for _, p := range v.Peers {
		vnet = append(append(vnet, p.AddressSpace...), p.OnPremPrefixes...)
	}
	vnet = append(append(vnet, netip.MustParsePrefix("168.63.129.16/32")), ipc.Subnet.Routes...)
	in := func(ps []netip.Prefix, a netip.Addr) bool {
		return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	var reserved []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"} {
		reserved = append(reserved, netip.MustParsePrefix(s))
	}
	sideMatch := func(s model.Side, a netip.Addr, local bool) bool {
		for _, g := range s.ASGs {
			for _, m := range g.Members {
				if (local && m == ipc) || (!local && m.PrivateIP == a) {
					return true
				}
			}
		}
		for _, x := range s.Addresses {
			switch {
			case x.Kind == model.AnyAddress:
				return true
			case x.Kind == model.PrefixAddress && x.Prefix.Contains(a):
				return true
			case x.Tag == model.TagVirtualNetwork && in(vnet, a):
				return true
			case x.Tag == model.TagInternet && !in(vnet, a) && !in(reserved, a):
				return true
			case x.Tag == model.TagAzureLoadBalancer && a == model.AzurePlatformIP():
				return true
			case x.Kind == model.TagAddress && in(env.ServiceTags[x.Tag], a):
				return true
			}
		}
		return false
	}
	portMatch := func(rs []model.PortRange, p engine.Port) bool {
		return p == engine.AnyPort || slices.ContainsFunc(rs, func(r model.PortRange) bool { return r.Contains(uint16(p)) })
	}
	sa, sp := f.Source()
	da, dp := f.Destination()
	fields := func(r *model.Rule) engine.Fields {
		var m engine.Fields
		set := func(ok bool, fl engine.Field) {
			if ok {
				m |= 1 << fl
			}
		}
		set(r.Protocol == model.AnyProtocol || r.Protocol == f.Protocol, engine.FieldProtocol)
		set(sideMatch(r.Source, sa, f.Direction == model.Outbound), engine.FieldSource)
		set(!f.Protocol.HasPorts() || portMatch(r.Source.Ports, sp), engine.FieldSourcePort)
		set(sideMatch(r.Destination, da, f.Direction == model.Inbound), engine.FieldDestination)
		set(!f.Protocol.HasPorts() || portMatch(r.Destination.Ports, dp), engine.FieldDestinationPort)
		return m
	}
	match := func(r *model.Rule) bool { return r.Direction == f.Direction && fields(r).All() }
	rank := map[model.Access]int{model.Deny: 0, model.AlwaysAllow: 1, model.Allow: 2}
	first := func(rs []*model.Rule) *model.Rule {
		rs = slices.Clone(rs)
		slices.SortStableFunc(rs, func(a, b *model.Rule) int {
			return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(rank[a.Access], rank[b.Access]), cmp.Compare(a.Name, b.Name))
		})
		for _, r := range rs {
			if match(r) {
				return r
			}
		}
		return nil
	}
	access, name := model.Allow, ""
	var admin []*model.Rule
	for _, a := range env.AdminRules {
		if a.AppliesTo(v) {
			admin = append(admin, &a.Rule)
		}
	}
	if r := first(admin); r != nil {
		if r.Access == model.Deny {
			return model.Deny, r.ID(), fields, true
		}
		if r.Access == model.AlwaysAllow {
			return model.Allow, r.ID(), fields, true
		}
		name = r.ID()
	}
	order := []*model.NSG{ipc.Subnet.NSG, ipc.NIC.NSG}
	if f.Direction == model.Outbound {
		order[0], order[1] = order[1], order[0]
	}
	for _, n := range order {
		if n == nil {
			continue
		}
		r := first(append(slices.Clone(n.Rules), model.DefaultRules()...))
		if r.Access == model.Deny {
			return model.Deny, r.ID(), fields, true
		}
		name = r.ID()
	}
	return access, name, fields, true
}

func agreeWithReference(t *testing.T, env *model.Environment, n int) {
	e := engine.Compile(env)
	addrs, ports := randestate.Interesting(env)
	rng := rand.New(rand.NewPCG(1, 2))
	protos := []model.Protocol{model.TCP, model.UDP, model.ICMP, model.ESP, model.AH}
	checked := 0
	for i := 0; i < n; i++ {
		vm := env.VMs[rng.IntN(len(env.VMs))]
		nic := vm.NICs[rng.IntN(len(vm.NICs))]
		ipc := nic.IPConfigs[rng.IntN(len(nic.IPConfigs))]
		f := engine.Flow{VM: vm.Name, Direction: model.Direction(rng.IntN(2)), Protocol: protos[rng.IntN(len(protos))],
			LocalIP: ipc.PrivateIP, LocalPort: ports[rng.IntN(len(ports))],
			RemoteIP: addrs[rng.IntN(len(addrs))], RemotePort: ports[rng.IntN(len(ports))]}
		if rng.IntN(4) == 0 {
			f.NIC = nic.Name
		}
		if rng.IntN(8) == 0 { // * on the source side
			if f.Direction == model.Inbound {
				f.RemotePort = engine.AnyPort
			} else {
				f.LocalPort = engine.AnyPort
			}
		}
		wantAccess, wantRule, refFields, ok := refEval(env, f)
		v, err := e.Decide(f)
		if !ok {
			if err == nil {
				t.Fatalf("engine evaluated %+v, reference refused it", f)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if v.Access != wantAccess || v.RuleName() != wantRule {
			t.Fatalf("%s on %s/%s: engine %s %s, reference %s %s", f, f.VM, nic.Name, v.Access, v.RuleName(), wantAccess, wantRule)
		}
		res, err := e.Verify(f)
		if err != nil || res.Verdict != v {
			t.Fatalf("%s: Verify %+v %v, Decide %+v", f, res, err, v)
		}
		for _, l := range res.Layers { // every check agrees with the naive one, every Why renders
			for i := range l.Tried {
				c := l.Check(i)
				if want := refFields(c.Rule); c.Fields != want {
					t.Fatalf("%s: rule %s of %s: checks %05b, reference %05b", f, c.Rule.Name, l.AppliedTo, c.Fields, want)
				}
				for fl := range engine.FieldCount {
					if res.Why(c, fl) == "" {
						t.Fatalf("%s: empty Why for %s %s", f, c.Rule.Name, fl)
					}
				}
			}
		}
		checked++
	}
	if checked < n/2 {
		t.Fatalf("only %d of %d random flows were evaluable", checked, n)
	}
}

func TestAgreesWithReferenceOnSample(t *testing.T) {
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	agreeWithReference(t, env, 20000)
}

func TestAgreesWithReferenceOnTestEstate(t *testing.T) {
	e := estate(t,
		allowHTTPS+rule("name=lb", "priority=150", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=AzureLoadBalancer", "destination=*", "destination_ports=80")+
			rule("name=app-to-web", "priority=160", "direction=Inbound", "access=Allow", "protocol=Tcp", `source_asgs=["app"]`, `destination_asgs=["web"]`, "destination_ports=8080")+
			rule("name=deny-vnet", "priority=4000", "direction=Inbound", "access=Deny", "protocol=Udp", "source=VirtualNetwork", "destination=*", "source_ports=1000-2000")+
			rule("name=out-storage", "priority=100", "direction=Outbound", "access=Allow", "protocol=Tcp", "source=*", "destination=Storage.WestEurope", "destination_ports=443")+
			rule("name=no-internet", "priority=200", "direction=Outbound", "access=Deny", "protocol=*", "source=*", "destination=Internet"),
		denyHTTPSNIC+allowNIC443+rule("name=multi", "priority=400", "direction=Inbound", "access=Deny", "protocol=*", `source=["1.2.3.0/24", "5.6.0.0/16", "13.107.21.200"]`, "destination=*"),
		"[[admin_rule]]\nname = \"allow-dns\"\npriority = 5\ndirection = \"Outbound\"\naccess = \"Allow\"\nprotocol = \"Udp\"\nsource = \"*\"\ndestination = \"*\"\ndestination_ports = \"53\"\n"+
			"[[admin_rule]]\nname = \"no-telnet\"\nvnets = [\"hub\"]\npriority = 6\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = \"Internet\"\ndestination = \"*\"\ndestination_ports = \"23\"\n")
	agreeWithReference(t, e.Environment(), 20000)
}

func TestAgreesWithReferenceOnRandomIndexedEstates(t *testing.T) {
	// The compiled engine indexes NSGs of 16 rules or more (one bitset word up to 64, several
	// beyond): random large estates check that path, with every address kind, against refEval.
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 7))
		src := randestate.Estate(rng)
		env, err := model.Load(model.Source{Name: fmt.Sprintf("random-%d.toml", seed), Data: []byte(src)})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		agreeWithReference(t, env, 4000)
	}
}
