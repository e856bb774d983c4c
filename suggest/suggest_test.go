package suggest_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/flows"
	"ipflow/internal/estategen"
	"ipflow/internal/randestate"
	"ipflow/model"
	"ipflow/suggest"
	"ipflow/whatif"
)

func sample(t testing.TB) *model.Environment {
	t.Helper()
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// check proves every suggestion for flow f: its change set, read back as --what-if reads it
// and applied to the whole estate, gives the wanted verdict (engine.Verify); its blast radius
// is analysis.Diff of the whole estate before and after (what diff --what-if prints), and its
// count is that diff's; the narrowest suggestion changes this flow's box and nothing else.
// It returns how many suggestions were checked.
func check(t *testing.T, env *model.Environment, e *engine.Engine, f engine.Flow) map[suggest.Kind]int {
	t.Helper()
	r, err := suggest.For(e, f)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	kinds := map[suggest.Kind]int{}
	for i, s := range r.Suggestions {
		text := whatif.Format(s.Changes)
		set, err := whatif.Load(env, model.Source{Name: "suggestion.toml", Data: []byte(text)})
		if err != nil {
			t.Fatalf("%s: suggestion %d does not load: %v\n%s", f, i+1, err, text)
		}
		after := engine.Compile(set.After)
		res, err := after.Verify(f)
		if err != nil || res.Access != r.Want {
			t.Fatalf("%s: suggestion %d (%s) gives %v, want %s\n%s", f, i+1, s.Summary, res.Access, r.Want, text)
		}
		// diff --what-if over the whole estate; the analysis package proves DiffChanged and
		// Diff find the same flows, and the count below is independent of how boxes are cut.
		whole := analysis.DiffChanged(e, after)
		got, _ := (&analysis.DiffResult{Changes: s.Blast}).MarshalJSON()
		want, _ := (&analysis.DiffResult{Changes: whole.Changes}).MarshalJSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: suggestion %d (%s): the blast radius is not what diff --what-if reports", f, i+1, s.Summary)
		}
		if n := suggest.Count(analysis.Diff(e, after).Changes); n.Cmp(s.Flows) != 0 {
			t.Fatalf("%s: suggestion %d counts %s flows, analysis.Diff %s", f, i+1, s.Flows, n)
		}
		if s.Kind == suggest.Add && i == 0 {
			narrowest(t, r.Before, f, s)
		}
		kinds[s.Kind]++
	}
	return kinds
}

// narrowest: every box of the blast radius is on this IP configuration and direction, this
// protocol, this remote address and this service port; and one holds the flow.
func narrowest(t *testing.T, before *engine.Result, f engine.Flow, s suggest.Suggestion) {
	t.Helper()
	pt := analysis.Point{Protocol: f.Protocol, Remote: f.RemoteIP}
	if f.RemotePort != engine.AnyPort {
		pt.RemotePort = uint16(f.RemotePort)
	}
	if f.LocalPort != engine.AnyPort {
		pt.LocalPort = uint16(f.LocalPort)
	}
	held := false
	for _, n := range s.Blast {
		if n.After.IPConfig().Name != before.IPConfig.Name || n.After.IPConfig().NIC.Name != before.NIC.Name || n.Direction != f.Direction {
			t.Fatalf("%s: the narrowest suggestion also changes %s %s", f, analysis.Name(n.After), n.Direction)
		}
		for _, c := range n.Changes {
			if c.Protocols != analysis.ProtocolSet(f.Protocol) || c.Remote.Size() != 1 || !c.Remote.Contains(f.RemoteIP) {
				t.Fatalf("%s: the narrowest suggestion changes %s from %s", f, c.Protocols, c.Remote)
			}
			if f.Protocol.HasPorts() {
				svc := c.LocalPorts
				if f.Direction == model.Outbound {
					svc = c.RemotePorts
				}
				if r := svc.Ranges(); len(r) != 1 || r[0].Lo != r[0].Hi {
					t.Fatalf("%s: the narrowest suggestion changes service ports %s", f, svc)
				}
			}
			held = held || c.Box.Contains(pt)
		}
	}
	if !held {
		t.Fatalf("%s: the narrowest suggestion's blast radius does not hold the flow", f)
	}
}

// The sample's walkthrough flows (its flows file and the README's NTP and SSH questions).
func TestSuggestionsOnTheSample(t *testing.T) {
	env := sample(t)
	e := engine.Compile(env)
	file, err := flows.Load(false, fixtures.SampleFlows())
	if err != nil {
		t.Fatal(err)
	}
	fs := []engine.Flow{
		{VM: "web-01", Direction: model.Inbound, Protocol: model.UDP, LocalIP: addr("10.0.1.4"), LocalPort: 123, RemoteIP: addr("13.107.21.200"), RemotePort: 60000},
		{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP, LocalIP: addr("10.0.1.4"), LocalPort: 22, RemoteIP: addr("13.107.21.200"), RemotePort: 60000},
		{VM: "web-01", Direction: model.Outbound, Protocol: model.TCP, LocalIP: addr("10.0.1.4"), LocalPort: 60000, RemoteIP: addr("13.107.21.200"), RemotePort: 25},
	}
	for _, fl := range file.Flows {
		fs = append(fs, fl.Flow)
	}
	for _, f := range fs {
		if k := check(t, env, e, f); k[suggest.Add] != 1 || k[suggest.Broader] == 0 {
			t.Fatalf("%s: suggestions of each kind: %v", f, k)
		}
	}
}

// The NTP flow of the README: both NSGs block, so every suggestion adds to both; the narrowest
// opens exactly this flow's box and no other.
func TestSuggestionsForNTP(t *testing.T) {
	e := engine.Compile(sample(t))
	r, err := suggest.For(e, engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.UDP, LocalIP: addr("10.0.1.4"), LocalPort: 123, RemoteIP: addr("13.107.21.200"), RemotePort: 60000})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Suggestions) < 3 || r.Want != model.Allow {
		t.Fatalf("%d suggestions", len(r.Suggestions))
	}
	s := r.Suggestions[0]
	if s.Kind != suggest.Add || len(s.Changes) != 2 || s.Changes[0].NSG != "web-subnet-nsg" || s.Changes[1].NSG != "web-nic-nsg" || s.Admin {
		t.Fatalf("first: %+v", s)
	}
	if s.Flows.String() != "65536" { // one address × 65,536 remote ports × one local port
		t.Fatalf("flows %s", s.Flows)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf, e.Environment()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Suggestions: 3 ways to allow this flow, smallest first",
		"1. add: add allow-udp-123-from-13.107.21.200 (priority 4096) to nsg web-subnet-nsg; add allow-udp-123-from-13.107.21.200 (priority 4096) to nsg web-nic-nsg",
		"opens UDP from 13.107.21.200/32 (remote ports *, local ports 123) on web-01 / web-01-nic (10.0.1.4, subnet hub/web), inbound",
		"az network nsg rule create --resource-group '<resource-group>' --nsg-name web-subnet-nsg --name allow-udp-123-from-13.107.21.200 --priority 4096 --direction Inbound --access Allow --protocol Udp --source-address-prefixes 13.107.21.200 --source-port-ranges '*' --destination-address-prefixes 10.0.1.4 --destination-port-ranges 123",
	} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Fatalf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

// A flow an admin rule denies: no NSG change can allow it; the suggestions change admin rules
// and say so.
func TestSuggestionsWhenAnAdminRuleDenies(t *testing.T) {
	e := engine.Compile(sample(t))
	r, err := suggest.For(e, engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP, LocalIP: addr("10.0.1.4"), LocalPort: 22, RemoteIP: addr("13.107.21.200"), RemotePort: 60000})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Suggestions) == 0 {
		t.Fatal("no suggestions")
	}
	for _, s := range r.Suggestions {
		if !s.Admin || !s.Changes[0].IsAdmin() || s.Changes[0].Admin.Access != model.AlwaysAllow || s.Changes[0].Admin.Priority >= 10 ||
			s.AdminWhy != "security admin rule deny-ssh-from-internet decides this flow, so no NSG change can allow it" {
			t.Fatalf("%+v", s)
		}
	}
}

// A flow no NSG and no admin rule decides (jump-01 has no NSG): only an admin rule can deny it,
// and the suggestions say why.
func TestSuggestionsWithoutAnNSG(t *testing.T) {
	env := sample(t)
	e := engine.Compile(env)
	f := engine.Flow{VM: "jump-01", Direction: model.Inbound, Protocol: model.TCP, LocalIP: addr("10.0.2.4"), LocalPort: 3389, RemoteIP: addr("10.0.1.4"), RemotePort: 60000}
	if k := check(t, env, e, f); k[suggest.Add] != 1 {
		t.Fatalf("kinds %v", k)
	}
	r, _ := suggest.For(e, f)
	for _, s := range r.Suggestions {
		if !s.Admin || s.Changes[0].Admin.Access != model.Deny || s.AdminWhy == "" || s.Verdict.Access != model.Deny {
			t.Fatalf("%+v", s)
		}
	}
}

// Every suggestion on random estates, for flows at the boundaries of their rules, in both
// directions, allowed and denied alike.
func TestSuggestionsOnRandomEstates(t *testing.T) {
	protos := []model.Protocol{model.TCP, model.UDP, model.ICMP}
	kinds := map[suggest.Kind]int{}
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 11))
		env, err := model.Load(model.Source{Name: fmt.Sprintf("random-%d.toml", seed), Data: []byte(randestate.Estate(rng))})
		if err != nil {
			t.Fatal(err)
		}
		e := engine.Compile(env)
		addrs, ports := randestate.Interesting(env)
		for _, tg := range e.Targets() {
			c := tg.IPConfig()
			if !c.NIC.VM.PowerState.Allocated() {
				continue
			}
			for _, d := range []model.Direction{model.Inbound, model.Outbound} {
				for range 2 {
					f := engine.Flow{VM: c.NIC.VM.Name, NIC: c.NIC.Name, Direction: d, Protocol: protos[rng.IntN(len(protos))], LocalIP: c.PrivateIP,
						LocalPort: port(rng, ports), RemoteIP: addrs[rng.IntN(len(addrs))], RemotePort: port(rng, ports)}
					for k, n := range check(t, env, e, f) {
						kinds[k] += n
					}
				}
			}
		}
	}
	if kinds[suggest.Add] < 50 || kinds[suggest.Edit] == 0 || kinds[suggest.Broader] < 50 {
		t.Fatalf("suggestions checked, by kind: %v", kinds)
	}
	t.Logf("suggestions checked, by kind: %v", kinds)
}

func port(rng *rand.Rand, ports []engine.Port) engine.Port {
	for {
		if p := ports[rng.IntN(len(ports))]; p != engine.AnyPort {
			return p
		}
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mustAddr(s string) netip.Addr { return addr(s) }

// A blast radius of many boxes lists the first 20 in the text, says how many more there are,
// and where to see them all; the count line gives the whole.
func TestLargeBlastRadiusTextIsCut(t *testing.T) {
	env := model.MustLoad(model.Source{Name: "gen.toml", Data: estategen.Large(600, 20, 20)})
	e := engine.Compile(env)
	var r *suggest.Result
	for _, p := range []engine.Port{5999, 123, 8081, 4444, 22} {
		f := engine.Flow{VM: "vm-300", Direction: model.Inbound, Protocol: model.UDP, LocalIP: env.VMs[300].NICs[0].IPConfigs[0].PrivateIP, LocalPort: p, RemoteIP: addr("13.107.21.200"), RemotePort: 60000}
		if v, err := e.Decide(f); err == nil && v.Access == model.Deny && v.Layer.NSG != nil {
			if r, err = suggest.For(e, f); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if r == nil {
		t.Fatal("no flow the NSGs deny on vm-300")
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf, env); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	cut := 0
	for i, s := range r.Suggestions {
		boxes := 0
		for _, n := range s.Blast {
			boxes += len(n.Changes)
		}
		part := text[strings.Index(text, fmt.Sprintf("\n%d. ", i+1)):]
		if j := strings.Index(part[1:], fmt.Sprintf("\n%d. ", i+2)); j >= 0 {
			part = part[:j+1]
		}
		listed := 0 // the lines between the count and the change set, but for "… and N more"
		if a, z := strings.Index(part, "Blast radius:"), strings.Index(part, "Change set"); a >= 0 && z > a {
			for _, line := range strings.Split(part[a:z], "\n")[1:] {
				if strings.HasPrefix(line, "     ") && !strings.Contains(line, "more box(es)") {
					listed++
				}
			}
		}
		more := fmt.Sprintf("… and %d more box(es): -o json lists every one", boxes-20)
		switch {
		case boxes > 20:
			cut++
			if listed != 20 || !strings.Contains(part, more) || !strings.Contains(part, fmt.Sprintf("in %d box(es)", boxes)) {
				t.Errorf("suggestion %d: %d boxes, %d listed:\n%s", i+1, boxes, listed, part)
			}
		case listed != boxes || strings.Contains(part, "more box(es)"):
			t.Errorf("suggestion %d: %d boxes, %d listed", i+1, boxes, listed)
		}
	}
	if cut == 0 {
		t.Fatalf("no suggestion with more than 20 boxes:\n%s", text)
	}
}
