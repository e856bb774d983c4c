package engine

import "ipflow/model"

// hotRule is what the scan loop reads of a rule: fixed size, no pointers, so that a long NSG is
// one contiguous array the CPU streams through. Ports and addresses that fit inline are decided
// here; the rest falls back to the full cRule at the same index.
type hotRule struct {
	proto      uint8    // protocol bit mask
	dn, sn     uint8    // inline port ranges in dp/sp: 0 = every port, 1-2 = that many, slowPorts = see cRule
	srcK, dstK addrKind // how to check each address
	dp, sp     [2]model.PortRange
	src, dst   ipRange // the one range (addrRange) or the bounding range (addrBounded)
}

const slowPorts = 0xff

type addrKind uint8

const (
	addrAny     addrKind = iota // *
	addrRange                   // exactly one range, inline
	addrBounded                 // several ranges: inline bounds first, then the full set
	addrSlow                    // tags that depend on the NIC, ASGs: the full matcher
)

func newHotRule(c *cRule) hotRule {
	h := hotRule{proto: c.protoMask}
	h.dn, h.dp = inlinePorts(c.dportAll, c.dport)
	h.sn, h.sp = inlinePorts(c.sportAll, c.sport)
	h.srcK, h.src = inlineAddr(&c.src)
	h.dstK, h.dst = inlineAddr(&c.dst)
	return h
}

func inlinePorts(all bool, s portSet) (uint8, [2]model.PortRange) {
	var out [2]model.PortRange
	switch {
	case all:
		return 0, out
	case len(s) <= 2:
		copy(out[:], s)
		return uint8(len(s)), out
	}
	return slowPorts, out
}

func inlineAddr(m *addrMatch) (addrKind, ipRange) {
	switch {
	case m.kind == matchAny:
		return addrAny, ipRange{}
	case m.kind != matchSet:
		return addrSlow, ipRange{}
	case len(m.set) == 0:
		return addrRange, ipRange{1, 0} // empty: lo > hi never matches
	case len(m.set) == 1:
		return addrRange, m.set[0]
	}
	return addrBounded, ipRange{m.set[0].lo, m.set[len(m.set)-1].hi}
}

// in2 reports whether q is in the first n (1 or 2) inline ranges.
func in2(n uint8, rs *[2]model.PortRange, q uint16) bool {
	return (rs[0].Lo <= q && q <= rs[0].Hi) || (n == 2 && rs[1].Lo <= q && q <= rs[1].Hi)
}

// portOK checks port p against a rule side's ports; p < 0 is the * source port, which matches.
// The full set is read only when the ranges did not fit inline.
func portOK(n uint8, rs *[2]model.PortRange, p int32, c *cRule, dst bool) bool {
	switch {
	case n == 0 || p < 0:
		return true
	case n != slowPorts:
		return in2(n, rs, uint16(p))
	case dst:
		return c.dport.contains(uint16(p))
	}
	return c.sport.contains(uint16(p))
}

// slowAddr finishes an address check that the inline range could not decide.
func slowAddr(k addrKind, r ipRange, ip uint32, m *addrMatch, local bool, t *target) bool {
	if k == addrBounded && (ip < r.lo || ip > r.hi) {
		return false
	}
	return m.match(ip, local, t)
}

func addrOK(k addrKind, r ipRange, ip uint32, m *addrMatch, local bool, t *target) bool {
	switch k {
	case addrAny:
		return true
	case addrRange:
		return r.lo <= ip && ip <= r.hi
	}
	return slowAddr(k, r, ip, m, local, t)
}

// scan returns the index of the first rule that matches, or -1. It is the verdict hot path:
// every common case is decided from the hot record alone, without touching cs.
func scan(hs []hotRule, cs []cRule, f *cflow, t *target) int {
	out := f.dir == model.Outbound
	proto, ports, dport, sport, src, dst := f.proto, f.ports, f.dport, f.sport, f.src, f.dst
	for i := range hs {
		h := &hs[i]
		if h.proto&proto == 0 {
			continue
		}
		if ports {
			if h.dn != 0 {
				if h.dn == slowPorts {
					if !cs[i].dport.contains(uint16(dport)) {
						continue
					}
				} else if !in2(h.dn, &h.dp, uint16(dport)) {
					continue
				}
			}
			if h.sn != 0 && sport >= 0 {
				if h.sn == slowPorts {
					if !cs[i].sport.contains(uint16(sport)) {
						continue
					}
				} else if !in2(h.sn, &h.sp, uint16(sport)) {
					continue
				}
			}
		}
		switch h.srcK {
		case addrAny:
		case addrRange:
			if src < h.src.lo || src > h.src.hi {
				continue
			}
		default:
			if !slowAddr(h.srcK, h.src, src, &cs[i].src, out, t) {
				continue
			}
		}
		switch h.dstK {
		case addrAny:
		case addrRange:
			if dst < h.dst.lo || dst > h.dst.hi {
				continue
			}
		default:
			if !slowAddr(h.dstK, h.dst, dst, &cs[i].dst, !out, t) {
				continue
			}
		}
		return i
	}
	return -1
}

// tryAll is the trace without an index: the five checks of each rule in order, up to and
// including the first match (whose position it returns, or -1).
func tryAll(hs []hotRule, cs []cRule, f *cflow, t *target) ([]Fields, int) {
	tried := make([]Fields, 0, len(cs))
	for i := range cs {
		m := fields(&hs[i], &cs[i], f, t)
		tried = append(tried, m)
		if m.All() {
			return tried, i
		}
	}
	return tried, -1
}

// fields is the trace path: all five checks of a rule, as NSG diagnostics reports them.
func fields(h *hotRule, c *cRule, f *cflow, t *target) Fields {
	out := f.dir == model.Outbound
	var m Fields
	if h.proto&f.proto != 0 {
		m |= 1 << FieldProtocol
	}
	if addrOK(h.srcK, h.src, f.src, &c.src, out, t) {
		m |= 1 << FieldSource
	}
	if !f.ports || portOK(h.sn, &h.sp, f.sport, c, false) {
		m |= 1 << FieldSourcePort
	}
	if addrOK(h.dstK, h.dst, f.dst, &c.dst, !out, t) {
		m |= 1 << FieldDestination
	}
	if !f.ports || portOK(h.dn, &h.dp, f.dport, c, true) {
		m |= 1 << FieldDestinationPort
	}
	return m
}
