package model

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// cidrs reads an array of IPv4 CIDRs.
func (l *loader) cidrs(t *tab, key string) ([]netip.Prefix, bool) {
	items, _, ok := t.strs(key)
	if !ok {
		return nil, false
	}
	out := make([]netip.Prefix, 0, len(items))
	for _, s := range items {
		p, err := ParseCIDR(strings.TrimSpace(s))
		if err != nil {
			t.errf(key, "%s %v", key, err)
			ok = false
			continue
		}
		out = append(out, p)
	}
	return out, ok
}

func (l *loader) readVNet(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysVNet, nil)
	if named && strings.Contains(name, "/") {
		t.errf("name", "name %q: a VNet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET)", name)
		named = false
	}
	v := &VNet{Name: name, Pos: t.hpos()}
	if named {
		if l.vnets.define(l, name, t, v) {
			l.env.VNets = append(l.env.VNets, v)
		} else {
			named = false
		}
	}
	if !t.has("address_space") {
		t.missing("address_space", "an array of IPv4 CIDRs")
	} else if space, ok := l.cidrs(t, "address_space"); ok {
		if len(space) == 0 {
			t.errf("address_space", "address_space: needs at least one IPv4 CIDR (like 10.0.0.0/16)")
		}
		if a, b, found := firstOverlap(space); found {
			t.errf("address_space", "address_space: %s overlaps %s", space[b], space[a])
		}
		v.AddressSpace = space
	}
	v.OnPremPrefixes, _ = l.cidrs(t, "onprem_prefixes")
	if peers, _, _ := t.strs("peerings"); named {
		for _, p := range peers {
			l.peerRefs = append(l.peerRefs, peerRef{from: v, name: p, pos: t.pos("peerings"), res: t.resource()})
		}
	}
	subnets := newRegistry[*Subnet]("subnet", resName("", "vnet", v.Name))
	for _, st := range t.tables("subnet", "vnet.subnet", "subnet") {
		if s := l.readSubnet(st, v, subnets); s != nil {
			v.Subnets = append(v.Subnets, s)
		}
	}
	l.checkSubnetOverlap(v)
}

// readSubnet reads subnet t of VNet v; names holds the subnets of v read so far.
func (l *loader) readSubnet(t *tab, v *VNet, names *registry[*Subnet]) *Subnet {
	name, named := l.readName(t)
	t.unknown(keysSubnet, nil)
	if named && strings.Contains(name, "/") {
		t.errf("name", "name %q: a subnet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET)", name)
		named = false
	}
	s := &Subnet{Name: name, VNet: v, Pos: t.hpos()}
	if named && !names.define(l, name, t, s) {
		named = false
	}
	if ps, ok := t.str("prefix", "an IPv4 CIDR"); ok {
		p, err := ParseCIDR(strings.TrimSpace(ps))
		if err != nil {
			t.errf("prefix", "prefix %v", err)
		} else {
			s.Prefix = p
			l.subnetPos[s] = at{t, "prefix"}
			if len(v.AddressSpace) > 0 && !insideAny(p, v.AddressSpace) {
				t.errf("prefix", "prefix %s is outside the address space of vnet %q (%s)", p, v.Name, joinPrefixes(v.AddressSpace))
			}
		}
	}
	s.NSG = l.nsgRef(t)
	s.Routes, _ = l.cidrs(t, "routes")
	if !named {
		return nil
	}
	return s
}

// nsgRef resolves the optional nsg key of a subnet or NIC.
func (l *loader) nsgRef(t *tab) *NSG {
	name, ok := t.str("nsg", optional)
	if !ok {
		return nil
	}
	g, found := l.nsgs.byName[name]
	if !found {
		t.errf("nsg", "nsg: %s", l.noSuch("nsg", name, l.nsgs.names))
		return nil
	}
	l.nsgAttached[g] = true
	return g
}

// checkSubnetOverlap reports every subnet of v that overlaps an earlier one (sorting, not
// comparing all pairs).
func (l *loader) checkSubnetOverlap(v *VNet) {
	var subs []*Subnet
	for _, s := range v.Subnets {
		if _, ok := l.subnetPos[s]; ok {
			subs = append(subs, s)
		}
	}
	if len(subs) < 2 {
		return
	}
	order := make(map[*Subnet]int, len(subs))
	for i, s := range subs {
		order[s] = i
	}
	sort.SliceStable(subs, func(i, j int) bool {
		li, _ := span(subs[i].Prefix)
		lj, _ := span(subs[j].Prefix)
		return li < lj
	})
	cover := subs[0]
	_, coverHi := span(cover.Prefix)
	for _, s := range subs[1:] {
		lo, hi := span(s.Prefix)
		if lo <= coverHi {
			first, second := cover, s
			if order[second] < order[first] {
				first, second = second, first
			}
			l.errAt(l.subnetPos[second].pos(), resName(resName("", "vnet", v.Name), "subnet", second.Name),
				fmt.Sprintf("prefix %s overlaps subnet %q (%s, %s)", second.Prefix, first.Name, first.Prefix, first.Pos))
		}
		if hi > coverHi {
			cover, coverHi = s, hi
		}
	}
}

func (l *loader) linkPeerings() {
	seen := map[[2]*VNet]bool{}
	link := func(a, b *VNet) {
		if !seen[[2]*VNet{a, b}] {
			seen[[2]*VNet{a, b}] = true
			a.Peers = append(a.Peers, b)
		}
	}
	for _, r := range l.peerRefs {
		to, ok := l.vnets.byName[r.name]
		switch {
		case !ok:
			l.errAt(r.pos, r.res, "peerings: "+l.noSuch("vnet", r.name, l.vnets.names))
		case to == r.from:
			l.errAt(r.pos, r.res, fmt.Sprintf("peerings: vnet %q cannot peer with itself", r.name))
		case seen[[2]*VNet{r.from, to}]:
			// declared on both sides: checked once
		default:
			if a, b, found := CrossOverlap(r.from.AddressSpace, to.AddressSpace); found {
				l.errAt(r.pos, r.res, fmt.Sprintf("peerings: vnet %q (%s) overlaps vnet %q (%s); Azure peers only VNets whose address spaces do not overlap",
					r.from.Name, a, to.Name, b))
				continue
			}
			link(r.from, to)
			link(to, r.from)
		}
	}
}

// subnetRef resolves a VNET/SUBNET reference, explaining what is wrong and what is close.
func (l *loader) subnetRef(t *tab, ref string) *Subnet {
	vname, sname, slash := strings.Cut(ref, "/")
	if !slash {
		var matches []string
		for _, vn := range l.vnets.names {
			for _, s := range l.vnets.byName[vn].Subnets {
				if s.Name == ref {
					matches = append(matches, s.Path())
				}
			}
		}
		msg := fmt.Sprintf("subnet %q: write VNET/SUBNET", ref)
		if len(matches) == 1 {
			msg += fmt.Sprintf("; did you mean %q?", matches[0])
		}
		t.errf("subnet", "%s", msg)
		return nil
	}
	v, ok := l.vnets.byName[vname]
	if !ok {
		t.errf("subnet", "subnet %q: %s", ref, l.noSuch("vnet", vname, l.vnets.names))
		return nil
	}
	names := make([]string, 0, len(v.Subnets))
	for _, s := range v.Subnets {
		if s.Name == sname {
			return s
		}
		names = append(names, s.Name)
	}
	t.errf("subnet", "subnet %q: vnet %q has %s", ref, vname, l.noSuch("subnet", sname, names))
	return nil
}
