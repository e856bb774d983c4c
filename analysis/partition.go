package analysis

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
	"sync"

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
	p.done()
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
	// spaces, when set, are t.Spaces(d, slot) already computed by the caller.
	spaces *[3][]engine.RuleSpace
}

// The dimensions of a box besides the protocol (split first), as indices of item.dims.
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

	// Every item's interval ends per dimension, sorted once; a sweep reads those of the
	// active items. cur, evBuf and cutBuf are the sweep's reused buffers.
	events  [3][]event
	cur     []uint64
	evBuf   []event
	cutBuf  []uint64
	scratch *scratch
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
	qAll := [3]bool{slices.Equal(p.q[0], allPorts), slices.Equal(p.q[1], allPorts), slices.Equal(p.q[2], allAddrs)}
	for c, ch := range chains {
		p.slots = append(p.slots, ch.t.Slots(ch.d))
		var ranges [3][2]int
		for s := range 3 {
			start := len(p.items)
			var spaces []engine.RuleSpace
			switch {
			case ch.only != 0 && ch.only != s+1:
			case ch.spaces != nil:
				spaces = ch.spaces[s]
			default:
				spaces = ch.t.Spaces(ch.d, s)
			}
			for i := range spaces {
				rs := &spaces[i]
				it := item{chain: c, slot: s, rs: rs, proto: Protocols(rs.Protocols) & p.qproto}
				if it.proto == 0 {
					continue
				}
				it.dims = [3]ivs{portsOf(rs.LocalPorts), portsOf(rs.RemotePorts), fromRanges(rs.Remote)}
				// Only the part inside the query matters; a rule that matches no address of
				// it can never match (ports may not apply, so only addresses drop a rule).
				for k := range 3 {
					if !qAll[k] && !it.dims[k].inside(p.q[k]) {
						it.dims[k] = it.dims[k].intersect(p.q[k])
					}
					it.covers[k] = p.q[k].within(it.dims[k])
				}
				if len(it.dims[dimRemote]) == 0 || it.proto == 0 {
					continue
				}
				p.items = append(p.items, it)
			}
			ranges[s] = [2]int{start, len(p.items)}
		}
		p.layerRange = append(p.layerRange, ranges)
	}
	p.words = (len(p.items) + 63) / 64
	p.cur = make([]uint64, p.words)
	p.scratch = scratchPool.Get().(*scratch)
	p.evBuf, p.cutBuf = p.scratch.sweep[:0], p.scratch.cuts[:0]
	for k := range 3 {
		n := 0
		for i := range p.items {
			n += 2 * len(p.items[i].dims[k])
		}
		evs := slices.Grow(p.scratch.events[k][0][:0], n)
		var runs []int // where each item's events start: each item's are already in order
		for i := range p.items {
			runs = append(runs, len(evs))
			for _, r := range p.items[i].dims[k] {
				evs = append(evs, newEvent(uint64(r.Lo), i, true), newEvent(uint64(r.Hi)+1, i, false))
			}
		}
		buf := slices.Grow(p.scratch.events[k][1][:0], n)[:n]
		p.events[k] = mergeRuns(evs, buf, runs)
		p.scratch.events[k] = [2][]event{evs, buf}
	}
	return p
}

// portsOf is fromPorts for a problem's items, which only read them: every port is the
// shared allPorts, with no copy.
func portsOf(rs []model.PortRange) ivs {
	if len(rs) == 1 && rs[0] == model.AllPorts() {
		return allPorts
	}
	return fromPorts(rs)
}

// inside reports, cheaply, that s lies within the one interval of t (false may be wrong:
// then intersect decides).
func (s ivs) inside(t ivs) bool {
	return len(t) == 1 && len(s) > 0 && s[0].Lo >= t[0].Lo && s[len(s)-1].Hi <= t[0].Hi
}

// scratch is a problem's sweep buffers, reused by the next problem once it is done: lint
// builds tens of thousands of problems, and their garbage was most of its time.
type scratch struct {
	events [3][2][]event
	sweep  []event
	cuts   []uint64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// done returns the problem's buffers; the problem's results (out, decisions) stay valid,
// the problem itself may not be run again.
func (p *problem) done() {
	s := p.scratch
	if s == nil {
		return
	}
	s.sweep, s.cuts = p.evBuf[:0], p.cutBuf[:0]
	p.scratch, p.events, p.evBuf, p.cutBuf = nil, [3][]event{}, nil, nil
	scratchPool.Put(s)
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
		order := portOrder
		if !hasPorts {
			order = portlessOrder
		}
		p.prune(act, order)
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
			p.split(g.proto, portOrder, [3]ivs{}, g.act)
		} else {
			p.split(g.proto, portlessOrder, [3]ivs{allPorts, allPorts}, g.act)
		}
	}
}

// The orders in which dimensions are split: the address first (it has the most boundaries,
// and the many pieces of an ASG's scattered members fall into few groups of equal rules), then
// the ports; protocols without ports split by address alone.
var (
	portOrder     = []int{dimRemote, dimLocal, dimRPort}
	portlessOrder = []int{dimRemote}
)

// prune drops, in each layer, the rules after the first one that holds the whole query in the
// dimensions still to split (order): within this node they can never be the first match.
func (p *problem) prune(act []uint64, order []int) {
	for c := range p.layerRange {
		for s := range 3 {
			r := p.layerRange[c][s]
			for i := r[0]; i < r[1]; i++ {
				if act[i/64]&(1<<(i%64)) == 0 {
					continue
				}
				it := &p.items[i]
				full := true
				for _, k := range order {
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

// split partitions the query's set of the first dimension of order among the active rules,
// groups the pieces where the same rules are active, and recurses to the next dimension; at
// the last one it emits regions by outcome.
func (p *problem) split(proto Protocols, order []int, fixed [3]ivs, act []uint64) {
	dim := order[0]
	if len(order) == 1 {
		p.leaves(proto, dim, fixed, act)
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
		g := index[string(k)]
		if g == nil {
			g = &group{act: slices.Clone(cur)}
			index[string(k)] = g
			groups = append(groups, g)
		}
		if n := len(g.set); n > 0 && g.set[n-1].Hi+1 == piece.Lo {
			g.set[n-1].Hi = piece.Hi
		} else {
			g.set = append(g.set, piece)
		}
	})
	for _, g := range groups {
		f := fixed
		f[dim] = g.set
		p.prune(g.act, order[1:])
		p.split(proto, order[1:], f, g.act)
	}
}

// leaves cuts the last dimension and gives every piece its outcome: in each layer the first
// active rule matches every flow of the piece.
func (p *problem) leaves(proto Protocols, dim int, fixed [3]ivs, act []uint64) {
	byOutcome := map[int]int{} // outcome -> index in p.out
	p.sweep(p.q[dim], act, dim, func(piece iv, cur []uint64) {
		o := p.outcome(cur)
		i, ok := byOutcome[o]
		if !ok {
			i = len(p.out)
			byOutcome[o] = i
			p.out = append(p.out, rawRegion{proto: proto, dims: fixed, outcome: o})
		}
		r := &p.out[i]
		if n := len(r.dims[dim]); n > 0 && r.dims[dim][n-1].Hi+1 == piece.Lo {
			r.dims[dim][n-1].Hi = piece.Hi
		} else {
			r.dims[dim] = append(r.dims[dim], piece)
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

// key is the bitset as bytes, for map keys (look up with string(key) to avoid a copy).
func (p *problem) key(b []uint64) []byte {
	buf := p.keyBuf[:0]
	for _, w := range b {
		buf = binary.LittleEndian.AppendUint64(buf, w)
	}
	p.keyBuf = buf
	return buf
}

// mergeRuns sorts evs, made of sorted runs starting at runs[i], by merging the runs pairwise:
// n log(runs) steps instead of a sort's n log n.
func mergeRuns(evs, buf []event, runs []int) []event {
	for len(runs) > 1 {
		var next []int
		out := buf[:0]
		for i := 0; i < len(runs); i += 2 {
			next = append(next, len(out))
			a, b := evs[runs[i]:], []event(nil)
			if i+1 < len(runs) {
				a, b = evs[runs[i]:runs[i+1]], evs[runs[i+1]:]
				if i+2 < len(runs) {
					b = evs[runs[i+1]:runs[i+2]]
				}
			}
			for len(a) > 0 && len(b) > 0 {
				if b[0] < a[0] {
					out, b = append(out, b[0]), b[1:]
				} else {
					out, a = append(out, a[0]), a[1:]
				}
			}
			out = append(append(out, a...), b...)
		}
		evs, buf, runs = out, evs, next
	}
	return evs
}

// event is where an item's interval starts (add) or ends (the position after it), packed in
// one integer so that sorting is a plain integer sort: position (33 bits), item, add.
type event uint64

const eventItemBits = 24

func newEvent(pos uint64, item int, add bool) event {
	e := event(pos<<(eventItemBits+1) | uint64(item)<<1)
	if add {
		e |= 1
	}
	return e
}

func (e event) pos() uint64 { return uint64(e) >> (eventItemBits + 1) }
func (e event) item() int   { return int(uint64(e)>>1) & (1<<eventItemBits - 1) }
func (e event) add() bool   { return e&1 != 0 }

// sweep cuts dom at every boundary of the active items' sets in dimension dim and calls emit
// for each piece inside dom with the items whose set holds it (cur is reused between calls:
// emit must copy what it keeps).
func (p *problem) sweep(dom ivs, act []uint64, dim int, emit func(piece iv, cur []uint64)) {
	if len(dom) == 0 {
		return
	}
	evs := p.evBuf[:0]
	// Items were cut to the query when the problem was made, and dom is the query's set of
	// this dimension, so every event lies within [lo, hi+1].
	for _, e := range p.events[dim] {
		if i := e.item(); act[i/64]&(1<<(i%64)) != 0 {
			evs = append(evs, e)
		}
	}
	p.evBuf = evs
	// The cuts: every event position and dom's ends, merged in order, once each.
	cuts := p.cutBuf[:0]
	j := 0
	for _, r := range dom {
		for _, b := range [2]uint64{uint64(r.Lo), uint64(r.Hi) + 1} {
			for j < len(evs) && evs[j].pos() < b {
				if n := len(cuts); n == 0 || cuts[n-1] != evs[j].pos() {
					cuts = append(cuts, evs[j].pos())
				}
				j++
			}
			if n := len(cuts); n == 0 || cuts[n-1] != b {
				cuts = append(cuts, b)
			}
		}
	}
	p.cutBuf = cuts
	cur := p.cur
	clear(cur)
	e, d := 0, 0
	for k := 0; k+1 < len(cuts); k++ {
		a, b := cuts[k], cuts[k+1]
		for e < len(evs) && evs[e].pos() <= a {
			if i := evs[e].item(); evs[e].add() {
				cur[i/64] |= 1 << (i % 64)
			} else {
				cur[i/64] &^= 1 << (i % 64)
			}
			e++
		}
		for d < len(dom) && uint64(dom[d].Hi) < a {
			d++
		}
		if d < len(dom) && uint64(dom[d].Lo) <= a {
			emit(span(uint32(a), uint32(b-1)), cur)
		}
	}
}
