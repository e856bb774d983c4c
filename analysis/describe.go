package analysis

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// describer names what an address set holds in an estate: VNets, subnets, VMs, service tags,
// the Internet, as seen from one target (VirtualNetwork and Internet depend on its subnet).
type describer struct {
	*Analyzer
	vnet     ivs
	internet ivs
}

func (a *Analyzer) describer(t engine.Target) describer {
	return describer{Analyzer: a, vnet: fromRanges(t.VirtualNetwork()), internet: fromRanges(t.Internet())}
}

const maxNamed = 6

// contains lists, most general first, what the set holds: "every address", "Internet (all
// public addresses)", "VNet hub (10.0.0.0/16)", "subnet spoke-app/app (app-01, batch-01)",
// "VM web-01 (10.0.1.4)", "service tag Storage.WestEurope". A thing partly in the set is
// named only through the parts of it that are wholly in (its subnets, its VMs).
func (d describer) contains(set ivs) []string {
	if len(set) == 0 {
		return nil
	}
	if slices.Equal(set, allAddrs) {
		return []string{"every address"}
	}
	var out []string
	internet := len(d.internet) > 0 && d.internet.within(set)
	if internet {
		out = append(out, "Internet (all public addresses)")
	} else if pub := set.intersect(d.internet); len(pub) > 0 {
		out = append(out, fmt.Sprintf("%d public address(es) (part of Internet)", pub.size()))
	}
	for _, name := range sortedTags(d.env) {
		if ps := fromPrefixes(d.env.ServiceTags[name]); len(ps) > 0 && ps.within(set) && !(internet && ps.within(d.internet)) {
			out = append(out, "service tag "+model.Printable(name))
		}
	}
	var vms []string
	covered := func(ip netip.Addr) bool { return set.contains(engine.AddrBits(ip)) }
	for _, v := range d.env.VNets {
		space := fromPrefixes(v.AddressSpace)
		if space.within(set) {
			out = append(out, fmt.Sprintf("VNet %s (%s)", model.Printable(v.Name), prefixList(v.AddressSpace)))
			continue
		}
		for _, s := range v.Subnets {
			if fromPrefixes([]netip.Prefix{s.Prefix}).within(set) {
				out = append(out, fmt.Sprintf("subnet %s (%s)", model.Printable(s.Path()), d.vmsIn(s, covered)))
			}
		}
		if p := fromPrefixes(v.OnPremPrefixes); len(p) > 0 && p.within(set) {
			out = append(out, fmt.Sprintf("on-premises %s (through %s's gateway)", prefixList(v.OnPremPrefixes), model.Printable(v.Name)))
		}
	}
	// VMs in the set whose subnet is not wholly in it.
	for _, c := range d.ipcs {
		if covered(c.PrivateIP) && !fromPrefixes([]netip.Prefix{c.Subnet.Prefix}).within(set) {
			vms = append(vms, fmt.Sprintf("%s (%s)", model.Printable(c.NIC.VM.Name), c.PrivateIP))
		}
	}
	if len(vms) > 0 {
		out = append(out, "VMs "+shortList(vms, maxNamed))
	}
	if len(out) == 0 {
		out = append(out, "no VNet, subnet, VM or tag of the estate")
	}
	return out
}

// vmsIn lists the VMs with an address in subnet s, or says there are none.
func (d describer) vmsIn(s *model.Subnet, covered func(netip.Addr) bool) string {
	var names []string
	for _, c := range d.bySubnet[s] {
		if covered(c.PrivateIP) && !slices.Contains(names, model.Printable(c.NIC.VM.Name)) {
			names = append(names, model.Printable(c.NIC.VM.Name))
		}
	}
	if len(names) == 0 {
		return "no VMs"
	}
	return shortList(names, maxNamed)
}

func sortedTags(env *model.Environment) []string {
	names := make([]string, 0, len(env.ServiceTags))
	for n := range env.ServiceTags {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func prefixList(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

// The kinds of Part.
const (
	PartEverything = "every-address"
	PartInternet   = "internet"    // the whole Internet tag, as seen from the target
	PartPublic     = "public"      // some public addresses, not the whole Internet
	PartTag        = "service-tag" // a declared service tag, all its prefixes
	PartVNet       = "vnet"
	PartSubnet     = "subnet"
	PartOnPrem     = "on-premises" // a VNet's on-premises prefixes, through its gateway
	PartNothing    = "nothing"     // no VNet, subnet, VM or tag of the estate
)

// Part is one thing of the estate an entry's prefix holds: a subnet with the VMs whose
// addresses lie in the prefix, a VNet, a tag. Partly means only part of the thing lies in the
// prefix (a prefix inside a subnet); otherwise all of it does. Prefixes and the estate's
// prefixes are either nested or disjoint, so every thing is wholly in, partly in or out.
type Part struct {
	Prefix    netip.Prefix // the entry's prefix
	Kind      string
	Name      string // the VNet, subnet path, tag; raw (Printable before printing)
	Partly    bool
	Addresses uint64            // for PartPublic: how many public addresses
	Space     string            // for a whole VNet: its address space
	IPConfigs []*model.IPConfig // for subnets: those whose address is in the prefix
}

// parts describes each prefix of set, in order: most general first, subnets with their VMs.
func (d describer) parts(set AddrSet) []Part {
	var out []Part
	for _, p := range set.Prefixes() {
		out = append(out, d.prefixParts(p)...)
	}
	return out
}

func (d describer) prefixParts(p netip.Prefix) []Part {
	pre := fromPrefixes([]netip.Prefix{p})
	if slices.Equal(pre, allAddrs) {
		return []Part{{Prefix: p, Kind: PartEverything, Name: "every address"}}
	}
	var out []Part
	add := func(kind, name string, partly bool) *Part {
		out = append(out, Part{Prefix: p, Kind: kind, Name: name, Partly: partly})
		return &out[len(out)-1]
	}
	internet := len(d.internet) > 0 && d.internet.within(pre)
	if internet {
		add(PartInternet, "Internet", false)
	} else if pub := pre.intersect(d.internet); len(pub) > 0 {
		add(PartPublic, "Internet", true).Addresses = pub.size()
	}
	for _, name := range sortedTags(d.env) {
		if ps := fromPrefixes(d.env.ServiceTags[name]); len(ps.intersect(pre)) > 0 && !(internet && ps.within(d.internet)) {
			add(PartTag, name, !ps.within(pre))
		}
	}
	in := func(c *model.IPConfig) bool { return pre.contains(engine.AddrBits(c.PrivateIP)) }
	for _, v := range d.env.VNets {
		space := fromPrefixes(v.AddressSpace)
		switch {
		case space.within(pre):
			add(PartVNet, v.Name, false).Space = prefixList(v.AddressSpace)
		case len(space.intersect(pre)) > 0:
			named := false
			for _, s := range v.Subnets {
				sp := fromPrefixes([]netip.Prefix{s.Prefix})
				if len(sp.intersect(pre)) == 0 {
					continue
				}
				part := add(PartSubnet, s.Path(), !sp.within(pre))
				for _, c := range d.bySubnet[s] {
					if in(c) {
						part.IPConfigs = append(part.IPConfigs, c)
					}
				}
				named = true
			}
			if !named { // the prefix lies in the VNet, outside its subnets
				add(PartVNet, v.Name, true)
			}
		}
		if op := fromPrefixes(v.OnPremPrefixes); len(op.intersect(pre)) > 0 {
			add(PartOnPrem, v.Name, !op.within(pre))
		}
	}
	if len(out) == 0 {
		add(PartNothing, "no VNet, subnet, VM or tag of the estate", false)
	}
	return out
}

// Text is the part for people: "subnet spoke-app/app (app-01, batch-01)", "part of subnet
// hub/web (web-01)", "Internet (all public addresses)".
func (p Part) Text() string {
	partOf := ""
	if p.Partly {
		partOf = "part of "
	}
	name := model.Printable(p.Name)
	switch p.Kind {
	case PartEverything, PartNothing:
		return p.Name
	case PartInternet:
		return "Internet (all public addresses)"
	case PartPublic:
		if p.Addresses == uint64(1)<<(32-p.Prefix.Bits()) {
			return "public addresses (part of Internet)"
		}
		return fmt.Sprintf("%d public address(es) (part of Internet)", p.Addresses)
	case PartTag:
		return partOf + "service tag " + name
	case PartOnPrem:
		return partOf + "on-premises prefixes through " + name + "'s gateway"
	case PartVNet:
		if p.Partly {
			return "part of VNet " + name + ", outside its subnets"
		}
		return "VNet " + name + " (" + p.Space + ")"
	}
	return fmt.Sprintf("%ssubnet %s (%s)", partOf, name, vmNames(p.IPConfigs, "no VMs"))
}

// vmNames lists the distinct VMs of some IP configurations, printable, at most maxNamed.
func vmNames(cs []*model.IPConfig, none string) string {
	names := partVMs(cs)
	if len(names) == 0 {
		return none
	}
	for i := range names {
		names[i] = model.Printable(names[i])
	}
	return shortList(names, maxNamed)
}

// partVMs is the distinct VM names of some IP configurations, raw, in order.
func partVMs(cs []*model.IPConfig) []string {
	var names []string
	for _, c := range cs {
		if !slices.Contains(names, c.NIC.VM.Name) {
			names = append(names, c.NIC.VM.Name)
		}
	}
	return names
}
