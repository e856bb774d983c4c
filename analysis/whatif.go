package analysis

import (
	"encoding/binary"
	"runtime"
	"sync"

	"ipflow/engine"
	"ipflow/model"
)

// DiffChanged is Diff for estates that differ in a few rules, as a what-if does. Each IP
// configuration and direction is compared only within the smallest box that holds every rule
// that is not in both estates (as its layers resolve them): a flow outside that box meets the
// same rules in the same order in both estates, so its decision cannot differ. The changes
// are Diff's; what is skipped is the partition of everything else.
func DiffChanged(before, after *engine.Engine) *DiffResult {
	res := &DiffResult{}
	old := map[string]engine.Target{}
	for _, t := range before.Targets() {
		old[targetKey(t)] = t
	}
	type job struct {
		b, a  engine.Target
		d     model.Direction
		space Box
		out   []Change
	}
	var jobs []*job
	seen := map[string]bool{}
	for _, t := range after.Targets() {
		k := targetKey(t)
		seen[k] = true
		b, ok := old[k]
		if !ok {
			res.Added = append(res.Added, k)
			continue
		}
		for _, d := range []model.Direction{model.Inbound, model.Outbound} {
			space, differ := changedBox(b, t, d)
			if !differ {
				res.Unchanged++
				continue
			}
			res.Analysed++
			jobs = append(jobs, &job{b: b, a: t, d: d, space: space})
		}
	}
	// The comparisons are independent: spread them over the CPUs, keeping their order.
	var wg sync.WaitGroup
	next := make(chan *job)
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				j.out = compare(j.b, j.a, j.d, j.space)
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, j := range jobs {
		if len(j.out) > 0 {
			res.Changes = append(res.Changes, NICDiff{Before: j.b, After: j.a, Direction: j.d, Changes: j.out})
		}
	}
	for _, t := range before.Targets() {
		if k := targetKey(t); !seen[k] {
			res.Removed = append(res.Removed, k)
		}
	}
	return res
}

// changedBox is the smallest box holding every rule space of before or after in direction d
// that the other does not have in the same layer; differ is false when there is none. When the
// layers themselves differ (another NSG attached), the box is everything.
func changedBox(before, after engine.Target, d model.Direction) (Box, bool) {
	lb, la := before.Slots(d), after.Slots(d)
	var box Box
	differ := false
	add := func(rs *engine.RuleSpace) {
		differ = true
		box.Protocols |= Protocols(rs.Protocols) & AllProtocols
		box.Remote.s = box.Remote.s.union(fromRanges(rs.Remote))
		box.RemotePorts.s = box.RemotePorts.s.union(fromPorts(rs.RemotePorts))
		box.LocalPorts.s = box.LocalPorts.s.union(fromPorts(rs.LocalPorts))
	}
	for s := range 3 {
		if layerKey(lb[s]) != layerKey(la[s]) {
			return Everything(), true
		}
		if engine.SameSpaces(before, after, d, s) {
			continue // one compiled table (a what-if's shares its base's): nothing differs
		}
		sb, sa := before.Spaces(d, s), after.Spaces(d, s)
		count := map[string]int{}
		var buf []byte
		for i := range sb {
			buf = spaceKey(buf[:0], &sb[i])
			count[string(buf)]++
		}
		for i := range sa {
			buf = spaceKey(buf[:0], &sa[i])
			if count[string(buf)] > 0 {
				count[string(buf)]--
				continue
			}
			add(&sa[i])
		}
		for i := range sb {
			buf = spaceKey(buf[:0], &sb[i])
			if count[string(buf)] > 0 {
				count[string(buf)]--
				add(&sb[i])
			}
		}
	}
	// Protocols without ports match whatever the ports: their flows span every port.
	if box.Protocols&^ProtocolSet(model.TCP, model.UDP) != 0 {
		box.RemotePorts, box.LocalPorts = PortSet{allPorts}, PortSet{allPorts}
	}
	return box, differ
}

func layerKey(l *engine.Layer) string {
	if l == nil {
		return "-"
	}
	k := l.AppliedTo
	if l.NSG != nil {
		k += "\x00" + l.NSG.Name
	}
	return k
}

// spaceKey is everything of a rule space the decision depends on: the rule's identity,
// priority and access, and its resolved sets.
func spaceKey(buf []byte, rs *engine.RuleSpace) []byte {
	buf = append(buf, rs.Rule.ID()...)
	buf = append(buf, 0)
	buf = binary.AppendUvarint(buf, uint64(rs.Rule.Priority))
	buf = binary.AppendUvarint(buf, uint64(rs.Rule.Access))
	buf = binary.AppendUvarint(buf, uint64(rs.Protocols))
	buf = binary.AppendUvarint(buf, uint64(len(rs.Remote)))
	for _, r := range rs.Remote {
		buf = binary.AppendUvarint(buf, uint64(r.Lo))
		buf = binary.AppendUvarint(buf, uint64(r.Hi))
	}
	for _, ps := range [][]model.PortRange{rs.RemotePorts, rs.LocalPorts} {
		buf = binary.AppendUvarint(buf, uint64(len(ps)))
		for _, r := range ps {
			buf = binary.AppendUvarint(buf, uint64(r.Lo))
			buf = binary.AppendUvarint(buf, uint64(r.Hi))
		}
	}
	return buf
}
