package engine

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"ipflow/model"
)

// ipRange is an inclusive range of IPv4 addresses as integers.
type ipRange struct{ lo, hi uint32 }

// ipSet is a sorted list of disjoint, non-adjacent ranges. Membership never allocates.
type ipSet []ipRange

// ip4 is an IPv4 address as an integer (0 for anything else: flows are checked before).
func ip4(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As16() // no checks, unlike As4: the IPv4 address is its last four bytes
	return binary.BigEndian.Uint32(b[12:])
}

func prefixRange(p netip.Prefix) ipRange {
	lo := ip4(p.Masked().Addr())
	return ipRange{lo, lo | uint32(uint64(1)<<(32-p.Bits())-1)}
}

// newIPSet builds a set from prefixes (any order, overlaps allowed).
func newIPSet(ps ...netip.Prefix) ipSet {
	rs := make([]ipRange, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() && p.Addr().Is4() {
			rs = append(rs, prefixRange(p))
		}
	}
	return normalize(rs)
}

func normalize(rs []ipRange) ipSet {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b ipRange) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last.hi == ^uint32(0) || r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

func (s ipSet) union(t ipSet) ipSet {
	return normalize(append(slices.Clone(s), t...))
}

// complement is every IPv4 address not in s.
func (s ipSet) complement() ipSet {
	var out ipSet
	next := uint64(0)
	for _, r := range s {
		if uint64(r.lo) > next {
			out = append(out, ipRange{uint32(next), r.lo - 1})
		}
		next = uint64(r.hi) + 1
	}
	if next <= uint64(^uint32(0)) {
		out = append(out, ipRange{uint32(next), ^uint32(0)})
	}
	return out
}

func (s ipSet) contains(ip uint32) bool {
	if len(s) <= 8 {
		for _, r := range s {
			if ip < r.lo {
				return false
			}
			if ip <= r.hi {
				return true
			}
		}
		return false
	}
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case ip < s[m].lo:
			hi = m
		case ip > s[m].hi:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// portSet is a sorted list of disjoint port ranges.
type portSet []model.PortRange

func newPortSet(rs []model.PortRange) portSet {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b model.PortRange) int { return int(a.Lo) - int(b.Lo) })
	out := portSet(s[:0])
	for _, r := range s {
		if n := len(out); n > 0 && int(r.Lo) <= int(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

func (s portSet) all() bool { return len(s) == 1 && s[0] == model.AllPorts() }

func (s portSet) contains(p uint16) bool {
	for _, r := range s {
		if p < r.Lo {
			return false
		}
		if p <= r.Hi {
			return true
		}
	}
	return false
}
