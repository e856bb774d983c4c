package analysis

import (
	"cmp"
	"slices"

	"ipflow/engine"
	"ipflow/model"
)

// DiffResult is the semantic difference between two estates: for every IP configuration both
// have (matched by VM, NIC and IP configuration name) and each direction, the flows whose
// verdict or deciding rule changes.
type DiffResult struct {
	Changes []NICDiff
	// Added and Removed are the IP configurations only in the new or only in the old estate,
	// as VM/NIC/IPCONFIG; their flows have no counterpart to compare with.
	Added, Removed []string
	// Analysed counts the IP configuration × direction pairs partitioned; Unchanged those
	// skipped because every layer's rules, resolved, are the same in both estates.
	Analysed, Unchanged int
}

// Changed reports whether anything differs.
func (d *DiffResult) Changed() bool {
	return len(d.Changes) > 0 || len(d.Added) > 0 || len(d.Removed) > 0
}

// NICDiff is the changes of one IP configuration in one direction.
type NICDiff struct {
	Before, After engine.Target
	Direction     model.Direction
	Changes       []Change
}

// Change is a box of flows that one decision decided before and another decides after.
type Change struct {
	Box
	Before, After Decision
}

// Diff compares two compiled estates exactly. IP configurations whose NSGs, subnet, ASGs,
// tags and admin rules are written the same are skipped without resolving anything; the others
// are partitioned only inside the box of the rules that differ as resolved (changedBox), the
// one place outside which both estates decide alike.
func Diff(before, after *engine.Engine) *DiffResult {
	res := &DiffResult{}
	old := map[string]engine.Target{}
	for _, t := range before.Targets() {
		old[targetKey(t)] = t
	}
	seen := map[string]bool{}
	same := newSameness(before.Environment(), after.Environment())
	for _, t := range after.Targets() {
		k := targetKey(t)
		seen[k] = true
		b, ok := old[k]
		if !ok {
			res.Added = append(res.Added, k)
			continue
		}
		if same.targetSame(b, t) {
			res.Unchanged += 2
			continue
		}
		for _, d := range []model.Direction{model.Inbound, model.Outbound} {
			space, differ := changedBox(b, t, d)
			if !differ {
				res.Unchanged++
				continue
			}
			res.Analysed++
			if cs := compare(b, t, d, space); len(cs) > 0 {
				res.Changes = append(res.Changes, NICDiff{Before: b, After: t, Direction: d, Changes: cs})
			}
		}
	}
	for _, t := range before.Targets() {
		if k := targetKey(t); !seen[k] {
			res.Removed = append(res.Removed, k)
		}
	}
	return res
}

// Compare is the exact difference, within space, between target before and target after in
// direction d: the boxes where the verdict or the deciding rule (by name, NSG and where it
// applies) differs. It is how a what-if estate is weighed against the original.
func Compare(before, after engine.Target, d model.Direction, space Box) []Change {
	return compare(before, after, d, space)
}

func compare(before, after engine.Target, d model.Direction, space Box) []Change {
	p := newProblem([]chainSpec{{t: before, d: d}, {t: after, d: d}}, space)
	p.run()
	p.done()
	type key struct {
		b, a  decisionKey
		proto Protocols
	}
	groups := map[key][]rawBox{}
	var order []key
	decs := map[key][2]Decision{}
	for _, r := range p.out {
		ds := p.decisions[r.outcome]
		kb, ka := keyOf(ds[0]), keyOf(ds[1])
		if kb == ka {
			continue
		}
		k := key{kb, ka, r.proto}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
			b, a := ds[0], ds[1]
			b.Matched, a.Matched = [3]*model.Rule{}, [3]*model.Rule{}
			decs[k] = [2]Decision{b, a}
		}
		groups[k] = append(groups[k], rawBox(r.dims))
	}
	var out []Change
	for _, k := range order {
		for _, b := range mergeBoxes(groups[k]) {
			ds := decs[k]
			out = append(out, Change{Box: rawRegion{proto: k.proto, dims: b}.box(), Before: ds[0], After: ds[1]})
		}
	}
	// The same box under several protocols is one change.
	merged := out[:0]
	for _, c := range out {
		if i := slices.IndexFunc(merged, func(m Change) bool {
			return keyOf(m.Before) == keyOf(c.Before) && keyOf(m.After) == keyOf(c.After) && m.Remote.Equal(c.Remote) &&
				slices.Equal(m.RemotePorts.s, c.RemotePorts.s) && slices.Equal(m.LocalPorts.s, c.LocalPorts.s)
		}); i >= 0 {
			merged[i].Protocols |= c.Protocols
			continue
		}
		merged = append(merged, c)
	}
	slices.SortStableFunc(merged, func(x, y Change) int {
		return cmp.Or(cmp.Compare(priority(x.Before.Rule), priority(y.Before.Rule)), cmp.Compare(priority(x.After.Rule), priority(y.After.Rule)))
	})
	return merged
}

// decisionKey identifies a decision across estates: the verdict, the deciding rule's name and
// the NSG and place it applies (pointers differ between two loads of the same fixture).
type decisionKey struct {
	access               model.Access
	rule, nsg, appliedTo string
}

func keyOf(d Decision) decisionKey {
	k := decisionKey{access: d.Access}
	if d.Rule != nil {
		k.rule, k.appliedTo = d.Rule.ID(), d.Layer.AppliedTo
		if d.Layer.NSG != nil {
			k.nsg = d.Layer.NSG.Name
		}
	}
	return k
}

func targetKey(t engine.Target) string {
	c := t.IPConfig()
	return c.NIC.VM.Name + "/" + c.NIC.Name + "/" + c.Name
}

// Name is "web-01 / web-01-nic (10.0.1.4, subnet hub/web)".
func Name(t engine.Target) string { return targetName(t) }
