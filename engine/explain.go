package engine

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"ipflow/model"
)

// Why explains one check of one rule tried: "destination port 123 is not in 443, 8000-8080",
// "source 10.2.0.4 is in VirtualNetwork through peering hub ↔ spoke-app".
func (r *Result) Why(c RuleCheck, f Field) string {
	ok := c.Fields.Has(f)
	switch f {
	case FieldProtocol:
		p := r.Flow.Protocol.FlowString()
		if c.Rule.Protocol == model.AnyProtocol {
			return fmt.Sprintf("protocol %s matches *", p)
		}
		if ok {
			return fmt.Sprintf("protocol %s is %s", p, c.Rule.Protocol)
		}
		return fmt.Sprintf("protocol %s is not %s", p, c.Rule.Protocol)
	case FieldSourcePort, FieldDestinationPort:
		return r.whyPort(c.Rule, f, ok)
	}
	return r.whyAddress(c.Rule, f, ok)
}

// Reason is the one-line explanation of a rule tried: the failed checks, or for a match how
// its addresses matched.
func (r *Result) Reason(c RuleCheck) string {
	var parts []string
	if c.Fields.All() {
		for _, f := range []Field{FieldSource, FieldDestination} {
			side := c.Rule.Source
			if f == FieldDestination {
				side = c.Rule.Destination
			}
			if len(side.ASGs) > 0 || slices.ContainsFunc(side.Addresses, func(a model.Address) bool { return a.Kind == model.TagAddress }) {
				parts = append(parts, r.Why(c, f))
			}
		}
		if len(parts) == 0 {
			return "all five checks match"
		}
		return "matches: " + strings.Join(parts, "; ")
	}
	for f := range FieldCount {
		if !c.Fields.Has(f) {
			parts = append(parts, r.Why(c, f))
		}
	}
	return strings.Join(parts, "; ")
}

func (r *Result) whyPort(rule *model.Rule, f Field, ok bool) string {
	if !r.Flow.Protocol.HasPorts() {
		return fmt.Sprintf("ports do not apply to %s", r.Flow.Protocol.FlowString())
	}
	ports, p := rule.Destination.Ports, r.cf.dport
	if f == FieldSourcePort {
		ports, p = rule.Source.Ports, r.cf.sport
	}
	list := model.FormatPorts(ports)
	switch {
	case list == "*" || len(ports) == 0:
		return fmt.Sprintf("%s %s matches *", f, Port(p))
	case p < 0:
		return fmt.Sprintf("%s * (any) is taken to match %s", f, list)
	case ok:
		return fmt.Sprintf("%s %d is in %s", f, p, list)
	}
	return fmt.Sprintf("%s %d is not in %s", f, p, list)
}

func (r *Result) whyAddress(rule *model.Rule, f Field, ok bool) string {
	side, ip := rule.Source, r.cf.src
	if f == FieldDestination {
		side, ip = rule.Destination, r.cf.dst
	}
	addr := fromIP4(ip)
	local := addr == r.Flow.LocalIP && (f == FieldDestination) == (r.Flow.Direction == model.Inbound)
	if len(side.ASGs) > 0 {
		return r.whyASG(side.ASGs, f, addr, local, ok)
	}
	if len(side.Addresses) == 1 {
		a := side.Addresses[0]
		switch a.Kind {
		case model.AnyAddress:
			return fmt.Sprintf("%s %s matches *", f, addr)
		case model.TagAddress:
			return r.whyTag(a.Tag, f, addr, ok)
		}
	}
	if ok { // the first item of the list that holds it
		for _, a := range side.Addresses {
			switch {
			case a.Kind == model.PrefixAddress && a.Prefix.Contains(addr):
				return fmt.Sprintf("%s %s is in %s", f, addr, a)
			case a.Kind == model.TagAddress && r.inTag(a.Tag, addr):
				return r.whyTag(a.Tag, f, addr, true)
			}
		}
	}
	items := make([]string, len(side.Addresses))
	for i, a := range side.Addresses {
		items[i] = a.String()
	}
	return fmt.Sprintf("%s %s is not in %s", f, addr, shortList(items, 6))
}

// inTag reports whether addr is in a service tag, as the evaluated NIC sees it.
func (r *Result) inTag(tag string, addr netip.Addr) bool {
	switch tag {
	case model.TagVirtualNetwork:
		return r.t.net.vnet.contains(ip4(addr))
	case model.TagInternet:
		return r.t.net.internet.contains(ip4(addr))
	case model.TagAzureLoadBalancer:
		return addr == model.AzurePlatformIP()
	}
	for _, p := range r.tags[tag] {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func (r *Result) whyTag(tag string, f Field, addr netip.Addr, ok bool) string {
	switch tag {
	case model.TagVirtualNetwork:
		if ok {
			return fmt.Sprintf("%s %s is in VirtualNetwork %s", f, addr, r.vnetProvenance(addr))
		}
		return fmt.Sprintf("%s %s is not in VirtualNetwork (%s)", f, addr, r.vnetSummary())
	case model.TagInternet:
		if ok {
			return fmt.Sprintf("%s %s is in Internet (a public address outside VirtualNetwork)", f, addr)
		}
		if r.t.net.vnet.contains(ip4(addr)) {
			return fmt.Sprintf("%s %s is not in Internet: it is in VirtualNetwork %s", f, addr, r.vnetProvenance(addr))
		}
		return fmt.Sprintf("%s %s is not in Internet: it is in reserved range %s, which is neither VirtualNetwork nor Internet", f, addr, reservedRange(addr))
	case model.TagAzureLoadBalancer:
		if ok {
			return fmt.Sprintf("%s %s is AzureLoadBalancer (the Azure host address health probes come from)", f, addr)
		}
		return fmt.Sprintf("%s %s is not AzureLoadBalancer (168.63.129.16)", f, addr)
	}
	prefixes := r.tags[tag]
	if ok {
		for _, p := range prefixes {
			if p.Contains(addr) {
				return fmt.Sprintf("%s %s is in service tag %s (%s)", f, addr, tag, p)
			}
		}
	}
	items := make([]string, len(prefixes))
	for i, p := range prefixes {
		items[i] = p.String()
	}
	return fmt.Sprintf("%s %s is not in service tag %s (%s)", f, addr, tag, shortList(items, 4))
}

func (r *Result) whyASG(asgs []*model.ASG, f Field, addr netip.Addr, local, ok bool) string {
	names := make([]string, len(asgs))
	for i, a := range asgs {
		names[i] = model.Printable(a.Name)
	}
	which := "ASG " + shortList(names, 4)
	if len(asgs) > 1 {
		which = "ASGs " + shortList(names, 4)
	}
	if ok {
		for _, a := range asgs {
			for _, m := range a.Members {
				if m.PrivateIP == addr && (!local || m == r.IPConfig) {
					return fmt.Sprintf("%s %s is in ASG %s (%s of %s is a member)", f, addr, model.Printable(a.Name), model.Printable(m.Name), model.Printable(m.NIC.Name))
				}
			}
		}
	}
	if local {
		return fmt.Sprintf("%s %s is not in %s: %s of %s is not a member", f, addr, which, model.Printable(r.IPConfig.Name), model.Printable(r.NIC.Name))
	}
	var members []string
	for _, a := range asgs {
		for _, m := range a.Members {
			members = append(members, m.PrivateIP.String())
		}
	}
	if len(members) == 0 {
		return fmt.Sprintf("%s %s is not in %s, which has no members", f, addr, which)
	}
	return fmt.Sprintf("%s %s is not in %s (members %s)", f, addr, which, shortList(members, 6))
}

// vnetProvenance says how addr came to be in VirtualNetwork for the evaluated NIC.
func (r *Result) vnetProvenance(addr netip.Addr) string {
	s := r.IPConfig.Subnet
	v := s.VNet
	for _, p := range v.AddressSpace {
		if p.Contains(addr) {
			return fmt.Sprintf("(address space %s of VNet %s)", p, model.Printable(v.Name))
		}
	}
	for _, peer := range v.Peers {
		for _, p := range peer.AddressSpace {
			if p.Contains(addr) {
				return fmt.Sprintf("through peering %s ↔ %s (%s)", model.Printable(v.Name), model.Printable(peer.Name), p)
			}
		}
	}
	for _, p := range v.OnPremPrefixes {
		if p.Contains(addr) {
			return fmt.Sprintf("through on-premises prefix %s of VNet %s's gateway", p, model.Printable(v.Name))
		}
	}
	for _, peer := range v.Peers {
		for _, p := range peer.OnPremPrefixes {
			if p.Contains(addr) {
				return fmt.Sprintf("through on-premises prefix %s of peered VNet %s (peering %s ↔ %s)", p, model.Printable(peer.Name), model.Printable(v.Name), model.Printable(peer.Name))
			}
		}
	}
	if addr == model.AzurePlatformIP() {
		return "(168.63.129.16, the Azure host address, is always in VirtualNetwork)"
	}
	for _, p := range s.Routes {
		if p.Contains(addr) {
			extra := ""
			if p.Bits() == 0 {
				extra = "; a 0.0.0.0/0 route makes VirtualNetwork every address"
			}
			return fmt.Sprintf("through user-defined route %s on subnet %s%s", p, model.Printable(s.Path()), extra)
		}
	}
	return ""
}

// vnetSummary lists what VirtualNetwork holds for the evaluated NIC.
func (r *Result) vnetSummary() string {
	s := r.IPConfig.Subnet
	v := s.VNet
	var parts []string
	add := func(label string, ps []netip.Prefix) {
		if len(ps) == 0 {
			return
		}
		items := make([]string, len(ps))
		for i, p := range ps {
			items[i] = p.String()
		}
		parts = append(parts, label+" "+shortList(items, 3))
	}
	add("VNet "+model.Printable(v.Name), v.AddressSpace)
	for _, peer := range v.Peers {
		add("peered "+model.Printable(peer.Name), peer.AddressSpace)
	}
	add("on-premises", v.OnPremPrefixes)
	for _, peer := range v.Peers {
		add(model.Printable(peer.Name)+"'s on-premises", peer.OnPremPrefixes)
	}
	add("routes on "+model.Printable(s.Path()), s.Routes)
	parts = append(parts, "168.63.129.16")
	return "here it is " + strings.Join(parts, ", ")
}

func reservedRange(addr netip.Addr) string {
	for _, p := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"} {
		if pp := netip.MustParsePrefix(p); pp.Contains(addr) {
			return p
		}
	}
	return "?"
}

func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

func fromIP4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
