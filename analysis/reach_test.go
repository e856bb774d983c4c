package analysis_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
)

// checkEntries checks Verify at the ends and at random addresses of every entry's ranges.
func checkEntries(t *testing.T, e *engine.Engine, r *analysis.Reach, rng *rand.Rand) {
	t.Helper()
	ipc := r.Target.IPConfig()
	total := uint64(0)
	for _, es := range [][]analysis.Entry{r.Allowed, r.Denied} {
		for _, en := range es {
			if r.Query.Protocol.HasPorts() {
				total += en.Remote.Size() * ports(en.RemotePorts) * ports(en.LocalPorts)
			} else {
				total += en.Remote.Size()
			}
			for _, p := range en.Remote.Prefixes() {
				lo := p.Masked().Addr()
				hi := engine.BitsAddr(engine.AddrBits(lo) | uint32(uint64(1)<<(32-p.Bits())-1))
				mid := engine.BitsAddr(engine.AddrBits(lo) + uint32(rng.Uint64N(uint64(engine.AddrBits(hi)-engine.AddrBits(lo))+1)))
				for _, a := range []string{lo.String(), hi.String(), mid.String()} {
					rp, lp := en.RemotePorts.Ranges()[0], en.LocalPorts.Ranges()[len(en.LocalPorts.Ranges())-1]
					f := engine.Flow{VM: ipc.NIC.VM.Name, NIC: ipc.NIC.Name, Direction: r.Query.Direction, Protocol: r.Query.Protocol,
						LocalIP: ipc.PrivateIP, LocalPort: engine.Port(lp.Hi), RemoteIP: mustAddr(a), RemotePort: engine.Port(rp.Lo)}
					res, err := e.Verify(f)
					if err != nil {
						t.Fatal(err)
					}
					if res.Access != en.Access || res.Rule != en.Rule || res.Layer != en.Layer {
						t.Fatalf("%s: Verify %s %s, reach entry %s", f, res.Access, res.RuleName(), en.RuleLine())
					}
				}
			}
		}
	}
	want := uint64(1) << 32 * 65536 // every address × every remote port × the one queried port
	if !r.Query.Protocol.HasPorts() {
		want = 1 << 32
	}
	if total != want {
		t.Errorf("entries hold %d flows, want %d", total, want)
	}
	checkParts(t, e.Environment(), r)
}

func TestReachOnRandomEstates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, env := range randomEstates(t, 12) {
		e := engine.Compile(env)
		a := analysis.New(e)
		for _, vm := range env.VMs {
			if !vm.PowerState.Allocated() {
				continue
			}
			for _, d := range []model.Direction{model.Inbound, model.Outbound} {
				q := analysis.ReachQuery{VM: vm.Name, Direction: d, Protocol: model.TCP, Ports: model.PortRange{Lo: 443, Hi: 443}}
				if rng.IntN(3) == 0 {
					q.Protocol, q.Ports = model.ICMP, model.PortRange{}
				}
				r, err := a.Reach(q)
				if err != nil {
					t.Fatal(err)
				}
				checkEntries(t, e, r, rng)
			}
		}
	}
}

func TestReachOnSample(t *testing.T) {
	e := engine.Compile(sample(t))
	a := analysis.New(e)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, vm := range e.Environment().VMs {
		if !vm.PowerState.Allocated() {
			continue
		}
		for _, d := range []model.Direction{model.Inbound, model.Outbound} {
			for _, q := range []analysis.ReachQuery{{Protocol: model.TCP, Ports: model.PortRange{Lo: 443, Hi: 443}}, {Protocol: model.UDP, Ports: model.PortRange{Lo: 53, Hi: 53}},
				{Protocol: model.TCP, Ports: model.PortRange{Lo: 3389, Hi: 3389}}, {Protocol: model.ICMP}} {
				q.VM, q.Direction = vm.Name, d
				r, err := a.Reach(q)
				if err != nil {
					t.Fatal(err)
				}
				checkEntries(t, e, r, rng)
			}
		}
	}
}

func TestReachNamesWhatItHolds(t *testing.T) {
	a := analysis.New(engine.Compile(sample(t)))
	r, err := a.Reach(analysis.ReachQuery{VM: "app-01", Direction: model.Inbound, Protocol: model.TCP, Ports: model.PortRange{Lo: 8080, Hi: 8080}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Allowed) != 1 || r.Allowed[0].Remote.String() != "10.0.1.4/31" || r.Allowed[0].Rule.Name != "allow-web-to-app" ||
		strings.Join(r.Allowed[0].Contains, "; ") != "VMs web-01 (10.0.1.4), web-02 (10.0.1.5)" {
		t.Fatalf("allowed %+v", r.Allowed)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Inbound TCP port 8080 to app-01 / app-01-nic (10.1.1.4, subnet spoke-app/app)\n\nAllowed\n  securityRules/allow-web-to-app (priority 100, Allow) in NSG app-subnet-nsg on subnet/spoke-app/app\n    from 10.0.1.4/31 — part of subnet hub/web (web-01, web-02)\n",
		"    from 10.0.2.0/23 — subnet hub/mgmt (jump-01)\n", "    from 10.1.0.0/16 — VNet spoke-app (10.1.0.0/16)\n",
		"    from 10.0.1.8/29, 10.0.1.16/28, 10.0.1.32/27 and 2 more — part of subnet hub/web (no VMs)\n",
		"in all the entry holds Internet (all public addresses)"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, b.String())
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		VM      string
		Allowed []struct {
			Prefixes    []string
			RemotePorts string
			Rule, NSG   string
			Contains    []struct {
				Prefix, Kind, Name string
				Partly             bool
				VMs                []string
			}
			Holds []string
		}
		Denied []struct{ Prefixes []string }
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.VM != "app-01" || len(out.Allowed) != 1 || out.Allowed[0].Rule != "securityRules/allow-web-to-app" || out.Allowed[0].NSG != "app-subnet-nsg" ||
		out.Allowed[0].RemotePorts != "*" || len(out.Denied) == 0 || len(out.Denied[len(out.Denied)-1].Prefixes) < 10 ||
		len(out.Allowed[0].Contains) != 1 || fmt.Sprint(out.Allowed[0].Contains[0]) != "{10.0.1.4/31 subnet hub/web true [web-01 web-02]}" ||
		strings.Join(out.Allowed[0].Holds, "; ") != "VMs web-01 (10.0.1.4), web-02 (10.0.1.5)" {
		t.Errorf("json %s", data)
	}
}

func TestReachErrors(t *testing.T) {
	a := analysis.New(engine.Compile(sample(t)))
	for _, c := range []struct {
		q     analysis.ReachQuery
		field string
		want  string
	}{
		{analysis.ReachQuery{VM: "web-1", Protocol: model.TCP}, "vm", `unknown VM "web-1" (did you mean "web-01"?)`},
		{analysis.ReachQuery{VM: "web-01", NIC: "x", Protocol: model.TCP}, "nic", `VM "web-01" has no NIC "x"`},
		{analysis.ReachQuery{VM: "batch-01", Protocol: model.TCP}, "vm", `VM "batch-01" is deallocated`},
		{analysis.ReachQuery{VM: "web-01", Protocol: model.AnyProtocol}, "protocol", "not a flow protocol"},
	} {
		_, err := a.Reach(c.q)
		var ie *engine.InputError
		if !errorsAs(err, &ie) || ie.Field != c.field || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.q, err)
		}
	}
}

// checkParts checks that what reach names for each prefix of an entry lies in it: a subnet,
// VNet or tag named whole lies wholly in the prefix, one named "partly" holds the prefix; the
// VMs named for a subnet have their address in the prefix, and every VM address in the
// prefix is named (in its subnet's part, or under its VNet named whole).
func checkParts(t *testing.T, env *model.Environment, r *analysis.Reach) {
	t.Helper()
	inPrefix := func(inner, outer netip.Prefix) bool {
		return outer.Bits() <= inner.Bits() && outer.Contains(inner.Masked().Addr())
	}
	subnets := map[string]*model.Subnet{}
	vnets := map[string]*model.VNet{}
	for _, v := range env.VNets {
		vnets[v.Name] = v
		for _, s := range v.Subnets {
			subnets[s.Path()] = s
		}
	}
	for _, es := range [][]analysis.Entry{r.Allowed, r.Denied} {
		for _, en := range es {
			prefixes := en.Remote.Prefixes()
			parts := map[netip.Prefix][]analysis.Part{}
			for _, p := range en.Parts {
				parts[p.Prefix] = append(parts[p.Prefix], p)
			}
			if len(parts) != len(prefixes) {
				t.Fatalf("%s: parts for %d prefixes, entry has %d", en.RuleLine(), len(parts), len(prefixes))
			}
			for _, pre := range prefixes {
				ps := parts[pre]
				if len(ps) == 0 {
					t.Fatalf("%s: nothing named for %s", en.RuleLine(), pre)
				}
				named := map[*model.IPConfig]bool{}
				wholeVNets := map[*model.VNet]bool{}
				if ps[0].Kind == analysis.PartEverything {
					if pre.Bits() != 0 || len(ps) != 1 {
						t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, ps)
					}
					continue
				}
				for _, p := range ps {
					switch p.Kind {
					case analysis.PartEverything:
						t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, p)
					case analysis.PartSubnet:
						s := subnets[p.Name]
						if s == nil || p.Partly != !inPrefix(s.Prefix, pre) || p.Partly && !inPrefix(pre, s.Prefix) {
							t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, p)
						}
						for _, c := range p.IPConfigs {
							if c.Subnet != s || !pre.Contains(c.PrivateIP) {
								t.Fatalf("%s: %s: %s named in %s", en.RuleLine(), pre, c.PrivateIP, p.Name)
							}
							named[c] = true
						}
					case analysis.PartVNet:
						v := vnets[p.Name]
						if v == nil {
							t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, p)
						}
						whole := true
						for _, sp := range v.AddressSpace {
							whole = whole && inPrefix(sp, pre)
						}
						if whole == p.Partly {
							t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, p)
						}
						wholeVNets[v] = whole
						for _, s := range v.Subnets {
							if p.Partly && (inPrefix(s.Prefix, pre) || inPrefix(pre, s.Prefix)) {
								t.Fatalf("%s: %s: part of VNet %s outside its subnets, but in subnet %s", en.RuleLine(), pre, p.Name, s.Path())
							}
						}
					case analysis.PartTag:
						all, some := true, false
						for _, tp := range env.ServiceTags[p.Name] {
							all = all && inPrefix(tp, pre)
							some = some || inPrefix(tp, pre) || inPrefix(pre, tp)
						}
						if !some || p.Partly == all {
							t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, p)
						}
					case analysis.PartInternet, analysis.PartPublic:
						lo, hi := engine.AddrBits(pre.Masked().Addr()), engine.AddrBits(pre.Masked().Addr())|uint32(uint64(1)<<(32-pre.Bits())-1)
						all, some := true, false
						for _, ir := range r.Target.Internet() {
							all = all && ir.Lo >= lo && ir.Hi <= hi
							some = some || ir.Lo <= hi && ir.Hi >= lo
						}
						if !some || (p.Kind == analysis.PartInternet) != all {
							t.Fatalf("%s: %s: %+v", en.RuleLine(), pre, p)
						}
					}
				}
				for _, vm := range env.VMs {
					for _, n := range vm.NICs {
						for _, c := range n.IPConfigs {
							if c.Subnet != nil && c.PrivateIP.Is4() && pre.Contains(c.PrivateIP) && !named[c] && !wholeVNets[c.Subnet.VNet] {
								t.Fatalf("%s: %s holds %s (%s) but does not name it", en.RuleLine(), pre, c.PrivateIP, vm.Name)
							}
						}
					}
				}
			}
		}
	}
}
