package engine

import (
	"math/bits"
	"slices"

	"ipflow/model"
)

// indexMinRules is the size from which a layer gets a ruleIndex: below it a linear scan of the
// hot records is as fast.
const indexMinRules = 16

// ruleIndex is a bit-vector classifier over one layer-direction's rules: for each field, the
// value space is cut into segments, and each segment holds the bitset of rules (by position in
// evaluation order) whose field contains it. ANDing the five bitsets for a flow leaves the
// candidates; the lowest candidate that truly matches decides. The index is exact for
// protocols, ports, prefixes and custom tags; sides whose addresses depend on the NIC
// (VirtualNetwork, Internet, ASGs) are marked "may match" in every segment and checked for real.
type ruleIndex struct {
	words    int
	proto    [model.AH + 1][]uint64 // by flow protocol
	sport    fieldIndex
	dport    fieldIndex
	src, dst fieldIndex
}

// fieldIndex maps a value to the bitset of rules that may contain it.
type fieldIndex struct {
	starts []uint32 // segment start values, ascending; starts[0] == 0
	top    int      // the largest power of two <= len(starts), for the search
	bits   []uint64 // words bitsets, one per segment
	words  int
}

func (x *fieldIndex) lookup(v uint32) []uint64 {
	i := x.segment(v)
	return x.bits[i*x.words : (i+1)*x.words]
}

// segment is the last segment starting at or below v (starts[0] is 0, so there is one): a
// binary search in power-of-two steps, a handful of instructions each.
func (x *fieldIndex) segment(v uint32) int {
	s, i := x.starts, 0
	for step := x.top; step > 0; step >>= 1 {
		if j := i + step; j < len(s) && s[j] <= v {
			i = j
		}
	}
	return i
}

type span struct {
	lo, hi uint64 // inclusive
}

// indexScratch is the working memory of building rule indexes, reused from one table to the
// next by one goroutine: a large estate's tables need hundreds of thousands of spans and cuts,
// all garbage once the indexes are built.
type indexScratch struct {
	spans  []span
	fields [][]span
	cuts   []uint64
}

// grown is s emptied, with room for n elements.
func grown[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// buildField builds a fieldIndex from each rule's spans (max is the top of the value space).
func buildField(spans [][]span, words int, max uint64, sc *indexScratch) fieldIndex {
	n := 1
	for _, ss := range spans {
		n += 2 * len(ss)
	}
	sc.cuts = grown(sc.cuts, n)
	cuts := append(sc.cuts, 0)
	for _, ss := range spans {
		for _, s := range ss {
			cuts = append(cuts, s.lo)
			if s.hi < max {
				cuts = append(cuts, s.hi+1)
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	x := fieldIndex{starts: make([]uint32, len(cuts)), bits: make([]uint64, len(cuts)*words), words: words, top: 1}
	for x.top*2 <= len(cuts) {
		x.top *= 2
	}
	for i, c := range cuts {
		x.starts[i] = uint32(c)
	}
	seg := func(v uint64) int { i, _ := slices.BinarySearch(cuts, v); return i }
	// Toggle a rule's bit where each of its spans starts and just after it ends; a prefix XOR
	// over the segments then leaves the bit set exactly inside the spans (spans are disjoint).
	for r, ss := range spans {
		w, b := r/64, uint64(1)<<(r%64)
		for _, s := range ss {
			x.bits[seg(s.lo)*words+w] ^= b
			if s.hi < max {
				x.bits[seg(s.hi+1)*words+w] ^= b
			}
		}
	}
	for i := 1; i < len(cuts); i++ {
		prev, cur := x.bits[(i-1)*words:i*words], x.bits[i*words:(i+1)*words]
		for w := range cur {
			cur[w] ^= prev[w]
		}
	}
	return x
}

// portSpans appends the spans of a port side to buf.
func portSpans(buf []span, all bool, s portSet) []span {
	if all {
		return append(buf, span{0, 65535})
	}
	for _, r := range s {
		buf = append(buf, span{uint64(r.Lo), uint64(r.Hi)})
	}
	return buf
}

// addrSpans appends the spans of an address side to buf.
func addrSpans(buf []span, m *addrMatch) []span {
	if m.kind != matchSet {
		return append(buf, span{0, 1<<32 - 1}) // * matches everything; tags and ASGs may: check for real
	}
	for _, r := range m.set {
		buf = append(buf, span{uint64(r.lo), uint64(r.hi)})
	}
	return buf
}

func newRuleIndex(cs []cRule, sc *indexScratch) *ruleIndex {
	if len(cs) < indexMinRules {
		return nil
	}
	words := (len(cs) + 63) / 64
	x := &ruleIndex{words: words}
	for p := model.TCP; p <= model.AH; p++ {
		x.proto[p] = make([]uint64, words)
		for i := range cs {
			if cs[i].protoMask&protoBit(p) != 0 {
				x.proto[p][i/64] |= 1 << (i % 64)
			}
		}
	}
	// Every rule's spans of the four fields, in one buffer sized first: a large estate has
	// hundreds of thousands of them, and they are garbage once the fields are built.
	n := 0
	for i := range cs {
		c := &cs[i]
		n += max(len(c.sport), 1) + max(len(c.dport), 1) + max(len(c.src.set), 1) + max(len(c.dst.set), 1)
	}
	sc.spans, sc.fields = grown(sc.spans, n), grown(sc.fields, 4*len(cs))
	buf, fields := sc.spans, sc.fields[:4*len(cs)]
	sp, dp, src, dst := fields[:len(cs)], fields[len(cs):2*len(cs)], fields[2*len(cs):3*len(cs)], fields[3*len(cs):]
	cut := func(from int) []span { return buf[from:len(buf):len(buf)] }
	for i := range cs {
		c := &cs[i]
		from := len(buf)
		buf = portSpans(buf, c.sportAll, c.sport)
		sp[i], from = cut(from), len(buf)
		buf = portSpans(buf, c.dportAll, c.dport)
		dp[i], from = cut(from), len(buf)
		buf = addrSpans(buf, &c.src)
		src[i], from = cut(from), len(buf)
		buf = addrSpans(buf, &c.dst)
		dst[i] = cut(from)
	}
	x.sport, x.dport = buildField(sp, words, 65535, sc), buildField(dp, words, 65535, sc)
	x.src, x.dst = buildField(src, words, 1<<32-1, sc), buildField(dst, words, 1<<32-1, sc)
	return x
}

// bitsetsAt returns the five per-field bitsets for a flow (nil means "every rule"), with the local side (destination inbound, source outbound) taken from
// the target's precomputed, exact bitset.
func (x *ruleIndex) bitsetsAt(f *cflow, local []uint64) (proto, sport, dport, src, dst []uint64) {
	proto = x.proto[bits.TrailingZeros8(f.proto)]
	if f.ports {
		dport = x.dport.lookup(uint32(f.dport))
		if f.sport >= 0 {
			sport = x.sport.lookup(uint32(f.sport))
		}
	}
	if f.dir == model.Inbound {
		return proto, sport, dport, x.src.lookup(f.src), local
	}
	return proto, sport, dport, local, x.dst.lookup(f.dst)
}

// localBits computes, for an IP configuration, which rules' local side (destination inbound,
// source outbound) holds its address: exact, tags and ASGs included, since the local address
// is fixed.
func localBits(cs []cRule, d model.Direction, t *target) []uint64 {
	out := make([]uint64, (len(cs)+63)/64)
	for i := range cs {
		m := &cs[i].dst
		if d == model.Outbound {
			m = &cs[i].src
		}
		if m.match(t.ip, true, t) {
			out[i/64] |= 1 << (i % 64)
		}
	}
	return out
}

// lookup1 is lookup for a one-word index.
func (x *fieldIndex) lookup1(v uint32) uint64 { return x.bits[x.segment(v)] }

// first1 is first for layers of at most 64 rules (most NSGs): the bitsets are single words.
func (x *ruleIndex) first1(hs []hotRule, cs []cRule, f *cflow, t *target, local uint64) int {
	m := x.proto[bits.TrailingZeros8(f.proto)][0] & local
	if f.ports {
		m &= x.dport.lookup1(uint32(f.dport))
		if f.sport >= 0 {
			m &= x.sport.lookup1(uint32(f.sport))
		}
	}
	out := f.dir == model.Outbound
	if out {
		m &= x.dst.lookup1(f.dst)
	} else {
		m &= x.src.lookup1(f.src)
	}
	for m != 0 {
		i := bits.TrailingZeros64(m)
		m &= m - 1
		// The remote side is exact in the index except for NIC-dependent kinds.
		if out {
			if hs[i].dstK != addrSlow || cs[i].dst.match(f.dst, false, t) {
				return i
			}
		} else if hs[i].srcK != addrSlow || cs[i].src.match(f.src, false, t) {
			return i
		}
	}
	return -1
}

// first is scan through the index: the position of the first matching rule, or -1.
func (x *ruleIndex) first(hs []hotRule, cs []cRule, f *cflow, t *target, local []uint64) int {
	proto, sport, dport, src, dst := x.bitsetsAt(f, local)
	out := f.dir == model.Outbound
	srcExact, dstExact := out, !out // the local side's bitset is exact
	for w := range x.words {
		m := proto[w] & src[w] & dst[w]
		if dport != nil {
			m &= dport[w]
		}
		if sport != nil {
			m &= sport[w]
		}
		for m != 0 {
			i := w*64 + bits.TrailingZeros64(m)
			m &= m - 1
			h := &hs[i]
			// Ports, protocol and prefix sets are exact in the index; only NIC-dependent
			// address kinds need a real check.
			if (srcExact || h.srcK != addrSlow || cs[i].src.match(f.src, out, t)) &&
				(dstExact || h.dstK != addrSlow || cs[i].dst.match(f.dst, !out, t)) {
				return i
			}
		}
	}
	return -1
}

// tryAll is the trace through the index: the five checks of each rule in order, up to and
// including the first match (whose position it returns, or -1). The checks come a word of 64
// rules at a time from the bitsets; only NIC-dependent addresses are checked for real.
func (x *ruleIndex) tryAll(hs []hotRule, cs []cRule, f *cflow, t *target, local []uint64) ([]Fields, int) {
	proto, sport, dport, src, dst := x.bitsetsAt(f, local)
	out := f.dir == model.Outbound
	tried := make([]Fields, 0, len(cs))
	for w := range x.words {
		pw, aw, bw, sw, dw := proto[w], src[w], dst[w], ^uint64(0), ^uint64(0)
		if sport != nil {
			sw = sport[w]
		}
		if dport != nil {
			dw = dport[w]
		}
		for b := 0; b < 64 && w*64+b < len(cs); b++ {
			i := w*64 + b
			m := Fields(pw>>b&1)<<FieldProtocol | Fields(aw>>b&1)<<FieldSource | Fields(sw>>b&1)<<FieldSourcePort |
				Fields(bw>>b&1)<<FieldDestination | Fields(dw>>b&1)<<FieldDestinationPort
			if !out && hs[i].srcK == addrSlow && !cs[i].src.match(f.src, out, t) {
				m &^= 1 << FieldSource
			}
			if out && hs[i].dstK == addrSlow && !cs[i].dst.match(f.dst, !out, t) {
				m &^= 1 << FieldDestination
			}
			tried = append(tried, m)
			if m.All() {
				return tried, i
			}
		}
	}
	return tried, -1
}
