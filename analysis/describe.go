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
