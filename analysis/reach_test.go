package analysis_test

import (
	"encoding/json"
	"math/rand/v2"
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
	for _, w := range []string{"Inbound TCP port 8080 to app-01 / app-01-nic (10.1.1.4, subnet spoke-app/app)\n\nAllowed\n  securityRules/allow-web-to-app (priority 100, Allow) in NSG app-subnet-nsg on subnet/spoke-app/app\n    from 10.0.1.4/31\n",
		"holds Internet (all public addresses)"} {
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
			Contains    []string
		}
		Denied []struct{ Prefixes []string }
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.VM != "app-01" || len(out.Allowed) != 1 || out.Allowed[0].Rule != "securityRules/allow-web-to-app" || out.Allowed[0].NSG != "app-subnet-nsg" ||
		out.Allowed[0].RemotePorts != "*" || len(out.Denied) == 0 || len(out.Denied[len(out.Denied)-1].Prefixes) < 10 {
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
