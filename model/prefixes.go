package model

import (
	"net/netip"
	"sort"
	"strings"
)

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// span is the first and last address of an IPv4 prefix, as integers.
func span(p netip.Prefix) (lo, hi uint32) {
	lo = u32(p.Addr())
	if p.Bits() == 0 {
		return lo, ^uint32(0)
	}
	return lo, lo | (^uint32(0) >> uint(p.Bits()))
}

func insideAny(p netip.Prefix, space []netip.Prefix) bool {
	for _, s := range space {
		if s.Bits() <= p.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func joinPrefixes(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// CrossOverlap finds a prefix of a that overlaps a prefix of b (two VNets that cannot be peered), in O(n log n): sorted by first
// address, a prefix overlaps the other list exactly when it starts before the furthest end of the
// other list's prefixes that start no later.
func CrossOverlap(a, b []netip.Prefix) (pa, pb netip.Prefix, found bool) {
	type item struct {
		p    netip.Prefix
		side int
	}
	items := make([]item, 0, len(a)+len(b))
	for _, p := range a {
		items = append(items, item{p, 0})
	}
	for _, p := range b {
		items = append(items, item{p, 1})
	}
	sort.Slice(items, func(i, j int) bool {
		li, _ := span(items[i].p)
		lj, _ := span(items[j].p)
		return li < lj
	})
	var far [2]*item // per side, the prefix seen so far that ends last
	var farHi [2]uint32
	for i := range items {
		it := &items[i]
		lo, hi := span(it.p)
		if o := far[1-it.side]; o != nil && lo <= farHi[1-it.side] {
			if it.side == 0 {
				return it.p, o.p, true
			}
			return o.p, it.p, true
		}
		if far[it.side] == nil || hi > farHi[it.side] {
			far[it.side], farHi[it.side] = it, hi
		}
	}
	return netip.Prefix{}, netip.Prefix{}, false
}

// firstOverlap finds two overlapping prefixes (a before b in the list) in O(n log n).
func firstOverlap(ps []netip.Prefix) (a, b int, found bool) {
	if len(ps) < 2 {
		return 0, 0, false
	}
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool {
		li, _ := span(ps[idx[i]])
		lj, _ := span(ps[idx[j]])
		if li != lj {
			return li < lj
		}
		return idx[i] < idx[j]
	})
	best := idx[0]
	_, bestHi := span(ps[best])
	for _, k := range idx[1:] {
		lo, hi := span(ps[k])
		if lo <= bestHi {
			return min(best, k), max(best, k), true
		}
		if hi > bestHi {
			best, bestHi = k, hi
		}
	}
	return 0, 0, false
}
