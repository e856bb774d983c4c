package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"ipflow/engine"
	"ipflow/internal/randestate"
	"ipflow/model"
	"ipflow/whatif"
)

// minus is box a without box b, as disjoint boxes.
func minus(a, b Box) []Box {
	ip := a.Protocols & b.Protocols
	ir, irp, ilp := a.Remote.s.intersect(b.Remote.s), a.RemotePorts.s.intersect(b.RemotePorts.s), a.LocalPorts.s.intersect(b.LocalPorts.s)
	if ip == 0 || len(ir) == 0 || len(irp) == 0 || len(ilp) == 0 {
		return []Box{a}
	}
	var out []Box
	if p := a.Protocols &^ b.Protocols; p != 0 {
		x := a
		x.Protocols = p
		out = append(out, x)
	}
	a.Protocols = ip
	if r := a.Remote.s.minus(b.Remote.s); len(r) > 0 {
		x := a
		x.Remote = AddrSet{r}
		out = append(out, x)
	}
	a.Remote = AddrSet{ir}
	if r := a.RemotePorts.s.minus(b.RemotePorts.s); len(r) > 0 {
		x := a
		x.RemotePorts = PortSet{r}
		out = append(out, x)
	}
	a.RemotePorts = PortSet{irp}
	if r := a.LocalPorts.s.minus(b.LocalPorts.s); len(r) > 0 {
		x := a
		x.LocalPorts = PortSet{r}
		out = append(out, x)
	}
	return out
}

// within reports whether every flow of a is in one of bs.
func within(a Box, bs []Box) bool {
	left := []Box{a}
	for _, b := range bs {
		var next []Box
		for _, p := range left {
			next = append(next, minus(p, b)...)
		}
		if left = next; len(left) == 0 {
			return true
		}
	}
	return len(left) == 0
}

type diffKey struct {
	target string
	d      model.Direction
	b, a   decisionKey
}

// sameFlows checks that two diffs change exactly the same flows in the same way, however their
// boxes are cut.
func sameFlows(t *testing.T, x, y *DiffResult) {
	t.Helper()
	group := func(r *DiffResult) map[diffKey][]Box {
		m := map[diffKey][]Box{}
		for _, n := range r.Changes {
			for _, c := range n.Changes {
				k := diffKey{targetKey(n.After), n.Direction, keyOf(c.Before), keyOf(c.After)}
				m[k] = append(m[k], c.Box)
			}
		}
		return m
	}
	gx, gy := group(x), group(y)
	for k, bs := range gx {
		for _, b := range bs {
			if !within(b, gy[k]) {
				t.Fatalf("%v: %s %s is not in the other diff", k, b.Protocols, b.Remote)
			}
		}
	}
	for k, bs := range gy {
		for _, b := range bs {
			if !within(b, gx[k]) {
				t.Fatalf("%v: %s %s is not in the other diff", k, b.Protocols, b.Remote)
			}
		}
	}
}

// randomChanges edits a random estate: rules removed, moved, turned around and copied.
func randomChanges(rng *rand.Rand, env *model.Environment) []whatif.Change {
	var out []whatif.Change
	for range 1 + rng.IntN(3) {
		g := env.NSGs[rng.IntN(len(env.NSGs))]
		if len(g.Rules) == 0 {
			continue
		}
		r := g.Rules[rng.IntN(len(g.Rules))]
		if slicesHas(out, g.Name, r.Name) {
			continue
		}
		switch rng.IntN(4) {
		case 0:
			out = append(out, whatif.Change{Op: whatif.Remove, NSG: g.Name, Name: r.Name})
		case 1:
			x := *r
			if x.Access == model.Allow {
				x.Access = model.Deny
			} else {
				x.Access = model.Allow
			}
			out = append(out, whatif.Change{Op: whatif.Replace, NSG: g.Name, Name: r.Name, Rule: &x})
		case 2:
			x := *r
			x.Priority = 4096 - rng.IntN(50)
			out = append(out, whatif.Change{Op: whatif.Replace, NSG: g.Name, Name: r.Name, Rule: &x})
		default:
			x := *r
			x.Name, x.Priority = fmt.Sprintf("copy-%d", rng.IntN(1000)), 100+rng.IntN(4)
			out = append(out, whatif.Change{Op: whatif.Add, NSG: g.Name, Name: x.Name, Rule: &x})
		}
	}
	return out
}

func slicesHas(cs []whatif.Change, nsg, name string) bool {
	for _, c := range cs {
		if c.NSG == nsg && c.Name == name {
			return true
		}
	}
	return false
}

// DiffChanged finds exactly Diff's changes on random estates with random change sets.
func TestDiffChangedIsDiff(t *testing.T) {
	tried := 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 13))
		env, err := model.Load(model.Source{Name: fmt.Sprintf("random-%d.toml", seed), Data: []byte(randestate.Estate(rng))})
		if err != nil {
			t.Fatal(err)
		}
		after, err := whatif.Apply(env, randomChanges(rng, env))
		if err != nil {
			continue // a random change that does not apply (a priority clash)
		}
		tried++
		eb, ea := engine.Compile(env), engine.Compile(after)
		full, fast := Diff(eb, ea), DiffChanged(eb, ea)
		sameFlows(t, full, fast)
		if full.Changed() != fast.Changed() || fast.Analysed > full.Analysed {
			t.Fatalf("seed %d: changed %v/%v, analysed %d/%d", seed, full.Changed(), fast.Changed(), full.Analysed, fast.Analysed)
		}
	}
	if tried < 20 {
		t.Fatalf("only %d change sets applied", tried)
	}
}
