package analysis_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/internal/randestate"
	"ipflow/model"
)

// mutate changes the n-th occurrence of old in src to repl.
func mutate(src, old, repl string, n int) string {
	idx := -1
	for range n + 1 {
		j := strings.Index(src[idx+1:], old)
		if j < 0 {
			return src
		}
		idx += 1 + j
	}
	return src[:idx] + repl + src[idx+len(old):]
}

func verdictKey(r *engine.Result) string {
	if r.Rule == nil {
		return r.Access.String()
	}
	nsg := ""
	if r.Layer.NSG != nil {
		nsg = r.Layer.NSG.Name
	}
	return r.Access.String() + " " + r.Rule.ID() + " " + nsg + " " + r.Layer.AppliedTo
}

func decisionKey(d analysis.Decision) string {
	if d.Rule == nil {
		return d.Access.String()
	}
	nsg := ""
	if d.Layer.NSG != nil {
		nsg = d.Layer.NSG.Name
	}
	return d.Access.String() + " " + d.Rule.ID() + " " + nsg + " " + d.Layer.AppliedTo
}

func TestDiffAgreesWithVerify(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	edits := []struct{ old, repl string }{
		{`access = "Allow"`, `access = "Deny"`},
		{`access = "Deny"`, `access = "Allow"`},
		{`priority = 1`, `priority = 4`}, // reorders rules
		{`destination_ports = ["443"]`, `destination_ports = ["444"]`},
		{`source = "Internet"`, `source = "VirtualNetwork"`},
	}
	differing, changes := 0, 0
	for seed := range uint64(3) {
		src := randestate.Estate(rand.New(rand.NewPCG(seed, 7)))
		before, err := model.Load(model.Source{Name: "before.toml", Data: []byte(src)})
		if err != nil {
			t.Fatal(err)
		}
		eb := engine.Compile(before)
		// Edits outside the NSGs change what the rules resolve to: Diff must not skip them.
		context := []struct{ old, repl string }{
			{`routes = ["172.20.0.0/16"]`, `routes = ["172.20.0.0/15"]`},
			{`peerings = ["spoke"]`, `peerings = []`},
			{`"Tag.A" = ["20.38.96.0/19"`, `"Tag.A" = ["20.38.97.0/24"`},
			{`asgs = ["g1"]`, `asgs = ["g2"]`},
			{`onprem_prefixes = ["192.168.0.0/16"]`, `onprem_prefixes = ["192.168.0.0/17"]`},
		}
		for i, ed := range slices.Concat(edits, context) {
			n := int(seed)*3 + i
			if i >= len(edits) {
				n = 0
			}
			changed := mutate(src, ed.old, ed.repl, n)
			after, err := model.Load(model.Source{Name: "after.toml", Data: []byte(changed)})
			if err != nil {
				continue // the edit made the fixture invalid (a duplicate priority): not a diff case
			}
			ea := engine.Compile(after)
			d := analysis.Diff(eb, ea)
			if changed == src && d.Changed() {
				t.Fatalf("seed %d edit %d: no edit, yet changes %+v", seed, i, d.Changes)
			}
			differing += checkDiff(t, eb, ea, d, rng)
			changes += len(d.Changes)
		}
	}
	// The edits must have changed something, or the checks above proved nothing.
	if differing < 50 || changes < 5 {
		t.Fatalf("only %d differing points in %d changed NIC directions", differing, changes)
	}
}

// checkDiff checks Verify in both estates at random points and rule boundaries of every
// target: where the answers differ the point is in exactly one change with those decisions,
// elsewhere in none.
func checkDiff(t *testing.T, eb, ea *engine.Engine, d *analysis.DiffResult, rng *rand.Rand) int {
	t.Helper()
	addrs, pts := randestate.Interesting(ea.Environment())
	differing := 0
	for _, ta := range ea.Targets() {
		ipc := ta.IPConfig()
		if !ipc.NIC.VM.PowerState.Allocated() {
			continue
		}
		for _, dir := range []model.Direction{model.Inbound, model.Outbound} {
			var changes []analysis.Change
			for _, n := range d.Changes {
				if n.After == ta && n.Direction == dir {
					changes = n.Changes
				}
			}
			bAddrs, bPorts := boundaries(ta, dir)
			as := slices.Concat(addrs, bAddrs)
			for _, p := range pts {
				bPorts = append(bPorts, uint16(p))
			}
			for range 400 {
				pt := analysis.Point{Protocol: protos[rng.IntN(len(protos))], Remote: as[rng.IntN(len(as))],
					RemotePort: bPorts[rng.IntN(len(bPorts))], LocalPort: bPorts[rng.IntN(len(bPorts))]}
				f := engine.Flow{VM: ipc.NIC.VM.Name, NIC: ipc.NIC.Name, Direction: dir, Protocol: pt.Protocol, LocalIP: ipc.PrivateIP,
					LocalPort: engine.Port(pt.LocalPort), RemoteIP: pt.Remote, RemotePort: engine.Port(pt.RemotePort)}
				rb, err1 := eb.Verify(f)
				ra, err2 := ea.Verify(f)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				var in []analysis.Change
				for _, c := range changes {
					if c.Contains(pt) {
						in = append(in, c)
					}
				}
				kb, ka := verdictKey(rb), verdictKey(ra)
				switch {
				case kb == ka && len(in) != 0:
					t.Fatalf("%s: same answer %s in both, yet in change %s → %s", f, kb, decisionKey(in[0].Before), decisionKey(in[0].After))
				case kb != ka && len(in) != 1:
					t.Fatalf("%s: %s → %s, in %d changes", f, kb, ka, len(in))
				case kb != ka && (decisionKey(in[0].Before) != kb || decisionKey(in[0].After) != ka):
					t.Fatalf("%s: Verify %s → %s, change says %s → %s", f, kb, ka, decisionKey(in[0].Before), decisionKey(in[0].After))
				}
				if kb != ka {
					differing++
				}
			}
		}
	}
	// Inside every change, the answers differ as the change says.
	for _, n := range d.Changes {
		ipc := n.After.IPConfig()
		for _, c := range n.Changes {
			for range 5 {
				pt := pointIn(c.Box, rng)
				f := engine.Flow{VM: ipc.NIC.VM.Name, NIC: ipc.NIC.Name, Direction: n.Direction, Protocol: pt.Protocol, LocalIP: ipc.PrivateIP,
					LocalPort: engine.Port(pt.LocalPort), RemoteIP: pt.Remote, RemotePort: engine.Port(pt.RemotePort)}
				rb, _ := eb.Verify(f)
				ra, _ := ea.Verify(f)
				if verdictKey(rb) != decisionKey(c.Before) || verdictKey(ra) != decisionKey(c.After) {
					t.Fatalf("%s: Verify %s → %s, change says %s → %s", f, verdictKey(rb), verdictKey(ra), decisionKey(c.Before), decisionKey(c.After))
				}
				differing++
			}
		}
	}
	return differing
}

// pointIn picks a flow in a box: a random protocol, and for each dimension a range end or a
// random value of a random range.
func pointIn(b analysis.Box, rng *rand.Rand) analysis.Point {
	ps := b.Protocols.List()
	pick := func(lo, hi uint64) uint64 {
		switch rng.IntN(3) {
		case 0:
			return lo
		case 1:
			return hi
		}
		return lo + rng.Uint64N(hi-lo+1)
	}
	prefixes := b.Remote.Prefixes()
	p := prefixes[rng.IntN(len(prefixes))]
	lo := uint64(engine.AddrBits(p.Masked().Addr()))
	hi := lo | (uint64(1)<<(32-p.Bits()) - 1)
	port := func(s analysis.PortSet) uint16 {
		rs := s.Ranges()
		r := rs[rng.IntN(len(rs))]
		return uint16(pick(uint64(r.Lo), uint64(r.Hi)))
	}
	return analysis.Point{Protocol: ps[rng.IntN(len(ps))], Remote: engine.BitsAddr(uint32(pick(lo, hi))), RemotePort: port(b.RemotePorts), LocalPort: port(b.LocalPorts)}
}

func TestDiffSkipsUnchangedNICs(t *testing.T) {
	env := sample(t)
	e1, e2 := engine.Compile(env), engine.Compile(sample(t))
	d := analysis.Diff(e1, e2)
	if d.Changed() || d.Analysed != 0 || d.Unchanged != 2*len(e1.Targets()) {
		t.Fatalf("same estate twice: %+v", d)
	}
	var b strings.Builder
	_ = d.WriteText(&b)
	if !strings.HasPrefix(b.String(), "No change") {
		t.Errorf("text %q", b.String())
	}
}
