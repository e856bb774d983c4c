package analysis

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"ipflow/engine"
	"ipflow/model"
)

// iv is an inclusive integer interval; ivs is a sorted list of disjoint, non-adjacent ones.
// Addresses (32 bits) and ports (16 bits) share the type, so one set algebra serves both. It is
// the engine's IPRange, so the engine's compiled address sets are used without a copy.
type iv = engine.IPRange

type ivs []iv

func span(lo, hi uint32) iv { return iv{Lo: lo, Hi: hi} }

const maxAddr = ^uint32(0)

var (
	allAddrs = ivs{span(0, maxAddr)}
	allPorts = ivs{span(0, 65535)}
)

// norm sorts and merges overlapping or adjacent intervals in place.
func norm(s ivs) ivs {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b iv) int {
		switch {
		case a.Lo < b.Lo:
			return -1
		case a.Lo > b.Lo:
			return 1
		}
		return 0
	})
	out := s[:1]
	for _, r := range s[1:] {
		last := &out[len(out)-1]
		if last.Hi == maxAddr || r.Lo <= last.Hi+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s ivs) union(t ivs) ivs { return norm(append(slices.Clone(s), t...)) }

func (s ivs) intersect(t ivs) ivs {
	var out ivs
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := max(s[i].Lo, t[j].Lo), min(s[i].Hi, t[j].Hi)
		if lo <= hi {
			out = append(out, span(lo, hi))
		}
		if s[i].Hi < t[j].Hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// minus is s without t.
func (s ivs) minus(t ivs) ivs { return s.intersect(t.complement()) }

func (s ivs) complement() ivs {
	var out ivs
	next := uint64(0)
	for _, r := range s {
		if uint64(r.Lo) > next {
			out = append(out, span(uint32(next), r.Lo-1))
		}
		next = uint64(r.Hi) + 1
	}
	if next <= uint64(maxAddr) {
		out = append(out, span(uint32(next), maxAddr))
	}
	return out
}

// within reports whether s is a subset of t: each range of s lies inside one range of t
// (t's ranges are disjoint and non-adjacent).
func (s ivs) within(t ivs) bool {
	j := 0
	for _, r := range s {
		for j < len(t) && t[j].Hi < r.Lo {
			j++
		}
		if j == len(t) || t[j].Lo > r.Lo || t[j].Hi < r.Hi {
			return false
		}
	}
	return true
}

func (s ivs) contains(v uint32) bool {
	i, ok := slices.BinarySearchFunc(s, v, func(r iv, v uint32) int {
		switch {
		case r.Hi < v:
			return -1
		case r.Lo > v:
			return 1
		}
		return 0
	})
	return ok && i < len(s)
}

func (s ivs) size() uint64 {
	n := uint64(0)
	for _, r := range s {
		n += uint64(r.Hi-r.Lo) + 1
	}
	return n
}

// fromRanges shares the engine's ranges: callers never modify ivs in place (norm is applied
// to fresh slices only).
func fromRanges(rs []engine.IPRange) ivs { return ivs(rs) }

func fromPorts(rs []model.PortRange) ivs {
	out := make(ivs, len(rs))
	for i, r := range rs {
		out[i] = span(uint32(r.Lo), uint32(r.Hi))
	}
	return norm(out)
}

func fromPrefixes(ps []netip.Prefix) ivs {
	var out ivs
	for _, p := range ps {
		if p.IsValid() && p.Addr().Is4() {
			p = p.Masked()
			lo := engine.AddrBits(p.Addr())
			out = append(out, span(lo, lo|uint32(uint64(1)<<(32-p.Bits())-1)))
		}
	}
	return norm(out)
}

// AddrSet is an exact set of IPv4 addresses.
type AddrSet struct{ s ivs }

// Contains reports whether a is in the set.
func (a AddrSet) Contains(addr netip.Addr) bool {
	return addr.Is4() && a.s.contains(engine.AddrBits(addr))
}

// Empty reports whether the set holds no address.
func (a AddrSet) Empty() bool { return len(a.s) == 0 }

// All reports whether the set holds every IPv4 address.
func (a AddrSet) All() bool { return len(a.s) == 1 && a.s[0] == span(0, maxAddr) }

// Size is the number of addresses in the set.
func (a AddrSet) Size() uint64 { return a.s.size() }

// Equal reports whether both sets hold the same addresses.
func (a AddrSet) Equal(b AddrSet) bool { return slices.Equal(a.s, b.s) }

// Prefixes is the fewest CIDR prefixes whose union is exactly the set, in address order.
// (The sets' ranges are disjoint and non-adjacent, so the minimal cover of each range, which
// netipx computes, together make the minimal cover of the set.)
func (a AddrSet) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range a.s {
		out = netipx.IPRangeFrom(engine.BitsAddr(r.Lo), engine.BitsAddr(r.Hi)).AppendPrefixes(out)
	}
	return out
}

// String lists the prefixes: "10.0.0.0/16, 192.168.1.0/24"; "*" for every address.
func (a AddrSet) String() string {
	if a.All() {
		return "*"
	}
	ps := a.Prefixes()
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// PortSet is an exact set of ports.
type PortSet struct{ s ivs }

// Ranges is the set as sorted, disjoint, non-adjacent ranges.
func (p PortSet) Ranges() []model.PortRange {
	out := make([]model.PortRange, len(p.s))
	for i, r := range p.s {
		out[i] = model.PortRange{Lo: uint16(r.Lo), Hi: uint16(r.Hi)}
	}
	return out
}

// Contains reports whether port n is in the set.
func (p PortSet) Contains(n uint16) bool { return p.s.contains(uint32(n)) }

// All reports whether the set holds every port.
func (p PortSet) All() bool { return len(p.s) == 1 && p.s[0] == span(0, 65535) }

// Empty reports whether the set holds no port.
func (p PortSet) Empty() bool { return len(p.s) == 0 }

// String is Azure's spelling: "*", "443", "8000-8080, 9000".
func (p PortSet) String() string {
	if p.All() {
		return "*"
	}
	parts := make([]string, len(p.s))
	for i, r := range p.s {
		parts[i] = strconv.Itoa(int(r.Lo))
		if r.Hi != r.Lo {
			parts[i] += "-" + strconv.Itoa(int(r.Hi))
		}
	}
	return strings.Join(parts, ", ")
}

// Protocols is a set of flow protocols: bit 1<<p for each model.Protocol p (TCP to AH).
type Protocols uint8

// AllProtocols is TCP, UDP, ICMP, ESP and AH.
const AllProtocols Protocols = 1<<model.TCP | 1<<model.UDP | 1<<model.ICMP | 1<<model.ESP | 1<<model.AH

// ProtocolSet is the set holding the given protocols.
func ProtocolSet(ps ...model.Protocol) Protocols {
	var s Protocols
	for _, p := range ps {
		s |= 1 << p
	}
	return s & AllProtocols
}

// Has reports whether p is in the set.
func (s Protocols) Has(p model.Protocol) bool { return s&(1<<p) != 0 }

// List is the protocols in the set, TCP first.
func (s Protocols) List() []model.Protocol {
	var out []model.Protocol
	for p := model.TCP; p <= model.AH; p++ {
		if s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// String is "TCP", "TCP, UDP" or "*" for all five.
func (s Protocols) String() string {
	if s == AllProtocols {
		return "*"
	}
	var parts []string
	for _, p := range s.List() {
		parts = append(parts, p.FlowString())
	}
	return strings.Join(parts, ", ")
}
