package importer

import (
	"fmt"
	"ipflow/model"
	"net/netip"
	"strings"
)

func (im *importer) buildVNet(e *entry) *outVNet {
	where := lazy(func() string { return e.file + ": " + e.label() })
	v := &outVNet{e: e, ips: map[netip.Addr]string{}}
	v6 := 0
	for _, p := range e.r.AddressSpace.prefixes() {
		switch k, canon, masked := parseCIDR(p); k {
		case pV4:
			pp := netip.MustParsePrefix(canon)
			if masked {
				im.warnf("%s: address space %q has host bits set; imported as %s", where, p, canon)
			}
			if containsPrefix(v.spaceP, pp) {
				continue
			}
			if o, ok := overlapping(v.spaceP, pp); ok {
				im.warnf("%s: address space %s overlaps %s; skipped", where, canon, o)
				continue
			}
			v.space = append(v.space, canon)
			v.spaceP = append(v.spaceP, pp)
		case pV6:
			v6++
		default:
			im.warnf("%s: address space %q is not an IPv4 CIDR; skipped", where, p)
		}
	}
	if v6 > 0 {
		im.warnf("%s: %s skipped (ipflow supports IPv4 only)", where, countOf(v6, "IPv6 address prefix", "IPv6 address prefixes"))
	}
	if len(v.space) == 0 {
		im.warnf("%s: it has no IPv4 address space; VNet skipped with its subnets", where)
		return nil
	}
	// Subnets: those inside the VNet object, then those exported on their own.
	subs := make([]subnetRaw, 0, len(e.r.Subnets))
	files := make([]string, 0, len(e.r.Subnets))
	seen := map[string]bool{}
	for _, s := range e.r.Subnets {
		subs = append(subs, s)
		files = append(files, e.file)
	}
	for _, c := range im.children[kSubnet][e.key] {
		subs = append(subs, subnetRaw{ID: c.id, Name: c.name, AddressPrefix: c.r.AddressPrefix,
			AddressPrefixes: c.r.AddressPrefixes, NetworkSecurityGroup: c.r.NetworkSecurityGroup, RouteTable: c.r.RouteTable})
		files = append(files, c.file)
	}
	names := map[string]bool{}
	for i := range subs {
		s := &subs[i]
		name := strings.TrimSpace(s.Name)
		if name == "" {
			if id, ok := parseID(s.ID); ok {
				name = id.last()
			}
		}
		key := idKey(s.ID)
		if key == "" {
			key = e.key + "/subnets/" + strings.ToLower(name)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		file := files[i]
		sw := lazy(func() string { return fmt.Sprintf("%s: %s, subnet %q", file, e.label(), name) })
		if strings.Contains(name, "/") {
			name = strings.ReplaceAll(name, "/", "_")
			im.warnf("%s: a subnet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET); imported as %q", sw, name)
		}
		if name == "" {
			im.warnf("%s: a subnet without a name; skipped", where)
			continue
		}
		if names[strings.ToLower(name)] {
			im.warnf("%s: another subnet of the VNet has the same name; skipped", sw)
			continue
		}
		sub := im.buildSubnet(v, sw, key, name, s)
		if sub == nil {
			continue
		}
		names[strings.ToLower(name)] = true
		v.subnets = append(v.subnets, sub)
		im.subnets[key] = sub
		if strings.EqualFold(name, "GatewaySubnet") {
			im.warnf("%s: it has a GatewaySubnet: in Azure the on-premises ranges reachable through its gateway are part of VirtualNetwork, but they are not in these exports; add them as onprem_prefixes by hand", where)
		}
	}
	return v
}

func overlapping(ps []netip.Prefix, p netip.Prefix) (netip.Prefix, bool) {
	for _, q := range ps {
		if q.Overlaps(p) {
			return q, true
		}
	}
	return netip.Prefix{}, false
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func (im *importer) buildSubnet(v *outVNet, sw lazy, key, name string, s *subnetRaw) *outSubnet {
	var v4 []string
	v6 := 0
	vals := s.AddressPrefixes
	if p := strings.TrimSpace(s.AddressPrefix); p != "" {
		vals = append([]string{p}, vals...)
	}
	for _, p := range vals {
		switch k, canon, masked := parseCIDR(p); k {
		case pV4:
			if masked {
				im.warnf("%s: prefix %q has host bits set; imported as %s", sw, p, canon)
			}
			if !containsStr(v4, canon) {
				v4 = append(v4, canon)
			}
		case pV6:
			v6++
		default:
			im.warnf("%s: prefix %q is not an IPv4 CIDR; skipped", sw, p)
		}
	}
	if v6 > 0 {
		im.warnf("%s: %s skipped (ipflow supports IPv4 only)", sw, countOf(v6, "IPv6 prefix", "IPv6 prefixes"))
	}
	if len(v4) == 0 {
		im.warnf("%s: it has no IPv4 prefix; subnet skipped", sw)
		return nil
	}
	if len(v4) > 1 {
		im.warnf("%s: ipflow holds one prefix per subnet; imported with %s, without %s", sw, v4[0], strings.Join(v4[1:], ", "))
	}
	sub := &outSubnet{key: key, name: name, prefix: netip.MustParsePrefix(v4[0]), vnet: v}
	inside := false
	for _, sp := range v.spaceP {
		if sp.Bits() <= sub.prefix.Bits() && sp.Contains(sub.prefix.Addr()) {
			inside = true
		}
	}
	if !inside {
		im.warnf("%s: prefix %s is outside the VNet's address space %s; subnet skipped", sw, sub.prefix, strings.Join(v.space, ", "))
		return nil
	}
	for _, o := range v.subnets {
		if o.prefix.Overlaps(sub.prefix) {
			im.warnf("%s: prefix %s overlaps subnet %q (%s); subnet skipped", sw, sub.prefix, o.name, o.prefix)
			return nil
		}
	}
	nsgID := refID(s.NetworkSecurityGroup)
	if nsgID != "" {
		if ne := im.lookup(kNSG, nsgID); ne != nil {
			sub.nsg = im.nsgs[ne.key]
		} else {
			im.warnf("%s: its NSG %s was not exported; imported without an NSG, so verdicts miss that NSG's rules", sw, refName(nsgID))
		}
	} else if nk, ok := im.nsgOfSubnet[key]; ok {
		sub.nsg = im.nsgs[nk]
	}
	rtKey := ""
	rtID := refID(s.RouteTable)
	if rtID != "" {
		if re := im.lookup(kRouteTable, rtID); re != nil {
			rtKey = re.key
		} else if len(im.children[kRoute][idKey(rtID)]) > 0 {
			rtKey = idKey(rtID)
		} else {
			im.warnf("%s: its route table %s was not exported; its routes are missing from VirtualNetwork", sw, refName(rtID))
		}
	} else if k, ok := im.rtOfSubnet[key]; ok {
		rtKey = k
	}
	if rtKey != "" {
		sub.routes = im.routeTable(rtKey)
	}
	return sub
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// routeTable returns the destination prefixes of a route table's routes (converted once).
func (im *importer) routeTable(key string) []string {
	if r, ok := im.routes[key]; ok {
		return r
	}
	var rs []routeRaw
	where := ""
	if e := im.entries[kRouteTable][key]; e != nil {
		rs = append(rs, e.r.Routes...)
		where = e.file + ": " + e.label()
	}
	for _, c := range im.children[kRoute][key] {
		rs = append(rs, routeRaw{ID: c.id, Name: c.name, AddressPrefix: c.r.AddressPrefix, NextHopType: c.r.NextHopType})
		if where == "" {
			where = c.file + ": route table " + refName(parentRef(c.id))
		}
	}
	out := []string{}
	seen := map[string]bool{}
	for _, rt := range rs {
		p := strings.TrimSpace(rt.AddressPrefix)
		switch k, canon, _ := parseCIDR(p); k {
		case pV4:
			if !seen[canon] {
				seen[canon] = true
				out = append(out, canon)
			}
		case pV6:
			im.warnf("%s, route %q: IPv6 destination %s skipped (ipflow supports IPv4 only)", where, rt.Name, p)
		default:
			if isTagName(p) {
				im.warnf("%s, route %q: its destination is service tag %q, which ipflow cannot hold in routes; skipped", where, rt.Name, p)
			} else {
				im.warnf("%s, route %q: destination %q is not an IPv4 CIDR; skipped", where, rt.Name, p)
			}
		}
	}
	im.routes[key] = out
	return out
}

// linkPeerings links VNets with a Connected peering. A peer that was not exported is added as a
// VNet without subnets, with the address space the peering shows, so VirtualNetwork stays right.
func (im *importer) linkPeerings() {
	for _, e := range im.sorted(kVNet) {
		v := im.vnets[e.key]
		if v == nil {
			continue
		}
		peers := make([]peerRaw, 0, len(e.r.VirtualNetworkPeerings))
		files := make([]string, 0, len(e.r.VirtualNetworkPeerings))
		for _, p := range e.r.VirtualNetworkPeerings {
			peers = append(peers, p)
			files = append(files, e.file)
		}
		for _, c := range im.children[kPeering][e.key] {
			peers = append(peers, peerRaw{ID: c.id, Name: c.name, PeeringState: c.r.PeeringState,
				RemoteVirtualNetwork: c.r.RemoteVirtualNetwork, RemoteAddressSpace: c.r.RemoteAddressSpace,
				RemoteVirtualNetworkAddressSpace: c.r.RemoteVirtualNetworkAddressSpace})
			files = append(files, c.file)
		}
		seen := map[string]bool{}
		for i, p := range peers {
			key := idKey(p.ID)
			if key == "" {
				key = "name:" + strings.ToLower(p.Name)
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			if !strings.EqualFold(strings.TrimSpace(p.PeeringState), "Connected") {
				continue // Initiated or Disconnected: not a peering for VirtualNetwork
			}
			pw := fmt.Sprintf("%s: %s, peering %q", files[i], e.label(), p.Name)
			remote := refID(p.RemoteVirtualNetwork)
			if remote == "" {
				im.warnf("%s: it names no remote VNet; skipped", pw)
				continue
			}
			var peer *outVNet
			if re := im.lookup(kVNet, remote); re != nil {
				peer = im.vnets[re.key]
				if peer == nil {
					continue // the peer was skipped, with a warning
				}
			} else {
				peer = im.stubVNet(pw, remote, p, files[i])
				if peer == nil {
					continue
				}
			}
			if peer == v || containsVNet(v.peers, peer) {
				continue
			}
			if a, b, overlap := model.CrossOverlap(v.spaceP, peer.spaceP); overlap {
				im.warnf("%s: %s overlaps %s of VNet %q, and Azure peers only VNets whose address spaces do not overlap; peering skipped", pw, a, b, peer.e.name)
				continue
			}
			v.peers = append(v.peers, peer)
		}
	}
}

func containsVNet(vs []*outVNet, v *outVNet) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func (im *importer) stubVNet(pw, remote string, p peerRaw, file string) *outVNet {
	key := idKey(remote)
	if v, ok := im.vnets[key]; ok {
		return v
	}
	id, ok := parseID(remote)
	if !ok {
		im.warnf("%s: remote VNet id %q is not an Azure resource id; skipped", pw, remote)
		return nil
	}
	space := p.RemoteAddressSpace.prefixes()
	if len(space) == 0 {
		space = p.RemoteVirtualNetworkAddressSpace.prefixes()
	}
	var v4 []string
	var v4p []netip.Prefix
	for _, s := range space {
		if k, canon, _ := parseCIDR(s); k == pV4 {
			pp := netip.MustParsePrefix(canon)
			if _, ov := overlapping(v4p, pp); !ov {
				v4 = append(v4, canon)
				v4p = append(v4p, pp)
			}
		}
	}
	if len(v4) == 0 {
		im.warnf("%s: remote VNet %s was not exported and the peering shows no IPv4 address space for it; peering skipped, so VirtualNetwork misses that VNet", pw, refName(remote))
		return nil
	}
	e := im.ensure(kVNet, key, id.last(), id.rg, id.sub, file)
	v := &outVNet{e: e, space: v4, spaceP: v4p, stub: true, ips: map[netip.Addr]string{}}
	im.vnets[key] = v
	im.warnf("%s: remote VNet %s was not exported; added as a VNet without subnets, with the address space the peering shows (%s)", pw, refName(remote), strings.Join(v4, ", "))
	return v
}
