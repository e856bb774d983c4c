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
	bits   []uint64 // words bitsets, one per segment
	words  int
}

func (x *fieldIndex) lookup(v uint32) []uint64 {
	// The last segment starting at or below v.
	lo, hi := 0, len(x.starts)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if x.starts[m] <= v {
			lo = m
		} else {
			hi = m
		}
	}
	return x.bits[lo*x.words : (lo+1)*x.words]
}

type span struct {
	lo, hi uint64 // inclusive
}

// buildField builds a fieldIndex from each rule's spans (max is the top of the value space).
func buildField(spans [][]span, words int, max uint64) fieldIndex {
	cuts := []uint64{0}
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
	x := fieldIndex{starts: make([]uint32, len(cuts)), bits: make([]uint64, len(cuts)*words), words: words}
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

func portSpans(all bool, s portSet) []span {
	if all {
		return []span{{0, 65535}}
	}
	out := make([]span, len(s))
	for i, r := range s {
		out[i] = span{uint64(r.Lo), uint64(r.Hi)}
	}
	return out
}

func addrSpans(m *addrMatch) []span {
	if m.kind != matchSet {
		return []span{{0, 1<<32 - 1}} // * matches everything; tags and ASGs may: check for real
	}
	out := make([]span, len(m.set))
	for i, r := range m.set {
		out[i] = span{uint64(r.lo), uint64(r.hi)}
	}
	return out
}

func newRuleIndex(cs []cRule) *ruleIndex {
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
	sp, dp, src, dst := make([][]span, len(cs)), make([][]span, len(cs)), make([][]span, len(cs)), make([][]span, len(cs))
	for i := range cs {
		c := &cs[i]
		sp[i], dp[i] = portSpans(c.sportAll, c.sport), portSpans(c.dportAll, c.dport)
		src[i], dst[i] = addrSpans(&c.src), addrSpans(&c.dst)
	}
	x.sport, x.dport = buildField(sp, words, 65535), buildField(dp, words, 65535)
	x.src, x.dst = buildField(src, words, 1<<32-1), buildField(dst, words, 1<<32-1)
	return x
}

// bitsets returns the five per-field bitsets for a flow; nil means "every rule".
func (x *ruleIndex) bitsets(f *cflow) (proto, sport, dport, src, dst []uint64) {
	proto = x.proto[bits.TrailingZeros8(f.proto)]
	if f.ports {
		dport = x.dport.lookup(uint32(f.dport))
		if f.sport >= 0 {
			sport = x.sport.lookup(uint32(f.sport))
		}
	}
	return proto, sport, dport, x.src.lookup(f.src), x.dst.lookup(f.dst)
}

// first is scan through the index: the position of the first matching rule, or -1.
func (x *ruleIndex) first(hs []hotRule, cs []cRule, f *cflow, t *target) int {
	proto, sport, dport, src, dst := x.bitsets(f)
	out := f.dir == model.Outbound
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
			if (h.srcK != addrSlow || cs[i].src.match(f.src, out, t)) && (h.dstK != addrSlow || cs[i].dst.match(f.dst, !out, t)) {
				return i
			}
		}
	}
	return -1
}

// fieldsAt is the trace's five checks for rule i, read from the index's bitsets.
func fieldsAt(i int, h *hotRule, c *cRule, f *cflow, t *target, proto, sport, dport, src, dst []uint64) Fields {
	w, b := i/64, uint64(1)<<(i%64)
	out := f.dir == model.Outbound
	var m Fields
	if proto[w]&b != 0 {
		m |= 1 << FieldProtocol
	}
	if sport == nil || sport[w]&b != 0 {
		m |= 1 << FieldSourcePort
	}
	if dport == nil || dport[w]&b != 0 {
		m |= 1 << FieldDestinationPort
	}
	if h.srcK == addrSlow {
		if c.src.match(f.src, out, t) {
			m |= 1 << FieldSource
		}
	} else if src[w]&b != 0 {
		m |= 1 << FieldSource
	}
	if h.dstK == addrSlow {
		if c.dst.match(f.dst, !out, t) {
			m |= 1 << FieldDestination
		}
	} else if dst[w]&b != 0 {
		m |= 1 << FieldDestination
	}
	return m
}
