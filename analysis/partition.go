package analysis

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"

	"ipflow/engine"
	"ipflow/model"
)

// Box is a set of flows of one IP configuration in one direction: every flow whose protocol is
// in Protocols, remote address in Remote and, for TCP and UDP, remote port in RemotePorts and
// local port in LocalPorts. Ports do not apply to ICMP, ESP and AH (Azure ignores them), so a
// box of only those protocols has both port sets full.
type Box struct {
	Protocols   Protocols
	Remote      AddrSet
	RemotePorts PortSet
	LocalPorts  PortSet
}

// Everything is the whole flow space: every protocol, address and port.
func Everything() Box {
	return Box{Protocols: AllProtocols, Remote: AddrSet{allAddrs}, RemotePorts: PortSet{allPorts}, LocalPorts: PortSet{allPorts}}
}

// Point is one flow of a target: its protocol, remote address and ports (ignored for
// protocols without ports).
type Point struct {
	Protocol   model.Protocol
	Remote     netip.Addr
	RemotePort uint16
	LocalPort  uint16
}

// Contains reports whether the box holds the flow.
func (b Box) Contains(p Point) bool {
	if !b.Protocols.Has(p.Protocol) || !b.Remote.Contains(p.Remote) {
		return false
	}
	return !p.Protocol.HasPorts() || b.RemotePorts.Contains(p.RemotePort) && b.LocalPorts.Contains(p.LocalPort)
}

// Decision is what the engine decides for every flow of a region: the verdict, the deciding
// rule and its layer as engine.Verify reports them, and the rule that matched in each layer
// slot (engine.Target.Slots), nil where the layer was not reached, has no NSG or matched nothing.
type Decision struct {
	Access  model.Access
	Rule    *model.Rule   // nil when no rule decided (no NSG at either level, no admin rule)
	Layer   *engine.Layer // nil when no rule decided
	Matched [3]*model.Rule
}

// Region is a box of flows with one decision.
type Region struct {
	Box
	Decision
}

// Partition is the exact partition of space, for target t and direction d, into regions of
// equal decision: every flow of space is in exactly one region. Regions with the same decision
// may come as several boxes (a union of boxes is not always a box).
func Partition(t engine.Target, d model.Direction, space Box) []Region {
	p := newProblem([]chainSpec{{t: t, d: d}}, space)
	p.run()
	out := make([]Region, len(p.out))
	for i, r := range p.out {
		out[i] = Region{Box: r.box(), Decision: p.decisions[r.outcome][0]}
	}
	return out
}

// Find is the region holding a flow, or false when the flow is outside every region.
func Find(regions []Region, pt Point) (Region, bool) {
	for _, r := range regions {
		if r.Contains(pt) {
			return r, true
		}
	}
	return Region{}, false
}

// chainSpec is one evaluation to partition by: a target in a direction. Several chains are
// partitioned together when their decisions are compared (a diff, a what-if).
type chainSpec struct {
	t engine.Target
	d model.Direction
	// only, when set, keeps just one layer slot (1 + the slot): the layer judged alone, as
	// lint does to tell a rule shadowed within its NSG from one decided by another layer.
	only int
}

// The dimensions, split in this order: protocol, local port, remote port, remote address. The
// address goes last because it has the most cuts; the leaves are then address pieces.
const (
	dimLocal = iota
	dimRPort
	dimRemote
)

type item struct {
	chain, slot int
	rs          *engine.RuleSpace
	proto       Protocols
	dims        [3]ivs  // local ports, remote ports, remote addresses
	covers      [3]bool // the set holds the query's whole range in that dimension
}

type problem struct {
	chains     []chainSpec
	slots      [][3]*engine.Layer
	items      []item
	layerRange [][3][2]int // per chain and slot: items [start, end)
	words      int
	q          [3]ivs
	qproto     Protocols

	outcomes  map[string]int
	decisions [][]Decision
	out       []rawRegion
	keyBuf    []byte
}

type rawRegion struct {
	proto   Protocols
	dims    [3]ivs
	outcome int
}

func (r rawRegion) box() Box {
	return Box{Protocols: r.proto, LocalPorts: PortSet{r.dims[dimLocal]}, RemotePorts: PortSet{r.dims[dimRPort]}, Remote: AddrSet{r.dims[dimRemote]}}
}

func newProblem(chains []chainSpec, space Box) *problem {
	p := &problem{chains: chains, outcomes: map[string]int{}, qproto: space.Protocols & AllProtocols}
	p.q = [3]ivs{space.LocalPorts.s, space.RemotePorts.s, space.Remote.s}
	for c, ch := range chains {
		p.slots = append(p.slots, ch.t.Slots(ch.d))
		var ranges [3][2]int
		for s := range 3 {
			start := len(p.items)
			var spaces []engine.RuleSpace
			if ch.only == 0 || ch.only == s+1 {
				spaces = ch.t.Spaces(ch.d, s)
			}
			for i := range spaces {
				rs := &spaces[i]
				it := item{chain: c, slot: s, rs: rs, proto: Protocols(rs.Protocols) & p.qproto,
					dims: [3]ivs{fromPorts(rs.LocalPorts), fromPorts(rs.RemotePorts), fromRanges(rs.Remote)}}
				for k := range 3 {
					it.covers[k] = p.q[k].within(it.dims[k])
				}
				p.items = append(p.items, it)
			}
			ranges[s] = [2]int{start, len(p.items)}
		}
		p.layerRange = append(p.layerRange, ranges)
	}
	p.words = (len(p.items) + 63) / 64
	return p
}

func (p *problem) run() {
	type group struct {
		proto    Protocols
		hasPorts bool
		act      []uint64
	}
	var groups []*group
	for _, proto := range p.qproto.List() {
		act := make([]uint64, p.words)
		for i := range p.items {
			if p.items[i].proto.Has(proto) {
				act[i/64] |= 1 << (i % 64)
			}
		}
		hasPorts := proto.HasPorts()
		from := dimLocal
		if !hasPorts {
			from = dimRemote
		}
		p.prune(act, from)
		found := false
		for _, g := range groups {
			if g.hasPorts == hasPorts && slices.Equal(g.act, act) {
				g.proto |= ProtocolSet(proto)
				found = true
			}
		}
		if !found {
			groups = append(groups, &group{ProtocolSet(proto), hasPorts, act})
		}
	}
	for _, g := range groups {
		if g.hasPorts {
			p.split(g.proto, dimLocal, [3]ivs{}, g.act)
		} else {
			p.split(g.proto, dimRemote, [3]ivs{allPorts, allPorts}, g.act)
		}
	}
}

// prune drops, in each layer, the rules after the first one that holds the whole query in
// dimensions from..last: within this node they can never be the first match.
func (p *problem) prune(act []uint64, from int) {
	for c := range p.layerRange {
		for s := range 3 {
			r := p.layerRange[c][s]
			for i := r[0]; i < r[1]; i++ {
				if act[i/64]&(1<<(i%64)) == 0 {
					continue
				}
				it := &p.items[i]
				full := true
				for k := from; k < 3; k++ {
					full = full && it.covers[k]
				}
				if full {
					for j := i + 1; j < r[1]; j++ {
						act[j/64] &^= 1 << (j % 64)
					}
					break
				}
			}
		}
	}
}

// split partitions the query's set of dimension dim among the active rules, then recurses to
// the next dimension; at the address dimension it emits regions by outcome.
func (p *problem) split(proto Protocols, dim int, fixed [3]ivs, act []uint64) {
	if dim == dimRemote {
		p.leaves(proto, fixed, act)
		return
	}
	type group struct {
		set ivs
		act []uint64
	}
	var groups []*group
	index := map[string]*group{}
	p.sweep(p.q[dim], act, dim, func(piece iv, cur []uint64) {
		k := p.key(cur)
		g := index[k]
		if g == nil {
			g = &group{act: slices.Clone(cur)}
			index[k] = g
			groups = append(groups, g)
		}
		g.set = append(g.set, piece)
	})
	for _, g := range groups {
		f := fixed
		f[dim] = norm(g.set)
		p.prune(g.act, dim+1)
		p.split(proto, dim+1, f, g.act)
	}
}

// leaves cuts the address dimension and gives every piece its outcome: in each layer the
// first active rule matches every flow of the piece.
func (p *problem) leaves(proto Protocols, fixed [3]ivs, act []uint64) {
	byOutcome := map[int]int{} // outcome -> index in p.out
	p.sweep(p.q[dimRemote], act, dimRemote, func(piece iv, cur []uint64) {
		o := p.outcome(cur)
		i, ok := byOutcome[o]
		if !ok {
			i = len(p.out)
			byOutcome[o] = i
			p.out = append(p.out, rawRegion{proto: proto, dims: fixed, outcome: o})
		}
		r := &p.out[i]
		if n := len(r.dims[dimRemote]); n > 0 && r.dims[dimRemote][n-1].hi+1 == piece.lo {
			r.dims[dimRemote][n-1].hi = piece.hi
		} else {
			r.dims[dimRemote] = append(r.dims[dimRemote], piece)
		}
	})
}

// outcome interns the decisions of every chain for the active set cur.
func (p *problem) outcome(cur []uint64) int {
	buf := p.keyBuf[:0]
	var firsts [][3]int
	for c := range p.chains {
		var f [3]int
		for s := range 3 {
			r := p.layerRange[c][s]
			f[s] = firstIn(cur, r[0], r[1])
			buf = binary.AppendVarint(buf, int64(f[s]))
		}
		firsts = append(firsts, f)
	}
	p.keyBuf = buf
	if o, ok := p.outcomes[string(buf)]; ok {
		return o
	}
	ds := make([]Decision, len(p.chains))
	for c, f := range firsts {
		ds[c] = p.decide(c, f)
	}
	o := len(p.decisions)
	p.decisions = append(p.decisions, ds)
	p.outcomes[string(buf)] = o
	return o
}

// decide composes the layers as the engine does: a Deny is final, an admin AlwaysAllow is
// final, an Allow lets the next layer decide and the last match is reported.
func (p *problem) decide(c int, first [3]int) Decision {
	d := Decision{Access: model.Allow}
	for s := range 3 {
		if first[s] < 0 {
			continue
		}
		r := p.items[first[s]].rs.Rule
		d.Matched[s], d.Rule, d.Layer = r, r, p.slots[c][s]
		switch r.Access {
		case model.Deny:
			d.Access = model.Deny
			return d
		case model.AlwaysAllow:
			return d
		}
	}
	return d
}

// firstIn is the first set bit of b in [lo, hi), or -1.
func firstIn(b []uint64, lo, hi int) int {
	for i := lo; i < hi; {
		w := b[i/64] >> (i % 64)
		if w != 0 {
			j := i + bits.TrailingZeros64(w)
			if j < hi {
				return j
			}
			return -1
		}
		i = (i/64 + 1) * 64
	}
	return -1
}

func (p *problem) key(b []uint64) string {
	buf := p.keyBuf[:0]
	for _, w := range b {
		buf = binary.LittleEndian.AppendUint64(buf, w)
	}
	p.keyBuf = buf
	return string(buf)
}

type event struct {
	pos  uint64
	item int
	add  bool
}

// sweep cuts dom at every boundary of the active items' sets in dimension dim and calls emit
// for each piece inside dom with the items whose set holds it (cur is reused between calls).
func (p *problem) sweep(dom ivs, act []uint64, dim int, emit func(piece iv, cur []uint64)) {
	if len(dom) == 0 {
		return
	}
	lo, hi := uint64(dom[0].lo), uint64(dom[len(dom)-1].hi)
	var evs []event
	cuts := make([]uint64, 0, 2*len(dom)+8)
	for _, r := range dom {
		cuts = append(cuts, uint64(r.lo), uint64(r.hi)+1)
	}
	for w, word := range act {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			for _, r := range p.items[i].dims[dim] {
				a, b := uint64(r.lo), uint64(r.hi)+1
				if b <= lo || a > hi {
					continue
				}
				a, b = max(a, lo), min(b, hi+1)
				evs = append(evs, event{a, i, true}, event{b, i, false})
				cuts = append(cuts, a, b)
			}
		}
	}
	slices.SortFunc(evs, func(x, y event) int {
		switch {
		case x.pos < y.pos:
			return -1
		case x.pos > y.pos:
			return 1
		}
		return 0
	})
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	cur := make([]uint64, p.words)
	e, d := 0, 0
	for k := 0; k+1 < len(cuts); k++ {
		a, b := cuts[k], cuts[k+1]
		for e < len(evs) && evs[e].pos <= a {
			if i := evs[e].item; evs[e].add {
				cur[i/64] |= 1 << (i % 64)
			} else {
				cur[i/64] &^= 1 << (i % 64)
			}
			e++
		}
		for d < len(dom) && uint64(dom[d].hi) < a {
			d++
		}
		if d < len(dom) && uint64(dom[d].lo) <= a {
			emit(iv{uint32(a), uint32(b - 1)}, cur)
		}
	}
}
