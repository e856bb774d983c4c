// Package randestate generates random estates and the addresses and ports around their
// boundaries, for tests that check an answer against engine.Verify (the engine's reference
// test, the analysis package's exactness tests). It is for tests only.
package randestate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// Interesting collects addresses and ports around every boundary the environment mentions.
func Interesting(env *model.Environment) ([]netip.Addr, []engine.Port) {
	addrs := []netip.Addr{model.AzurePlatformIP(), model.AzureIMDSIP(), netip.MustParseAddr("13.107.21.200"),
		netip.MustParseAddr("172.31.0.100"), netip.MustParseAddr("100.64.0.1"), netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("0.0.0.1"), netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("224.0.0.1")}
	ports := []engine.Port{0, 1, 22, 25, 53, 80, 123, 443, 1433, 3389, 8080, 60000, 65535}
	addPrefix := func(p netip.Prefix) {
		r := p.Masked()
		lo := r.Addr()
		hi := lo
		for i := 0; i < 1<<(32-r.Bits())-1 && i < 300; i++ {
			hi = hi.Next()
		}
		addrs = append(addrs, lo, hi)
		if n := hi.Next(); n.IsValid() {
			addrs = append(addrs, n)
		}
		if p := lo.Prev(); p.IsValid() {
			addrs = append(addrs, p)
		}
	}
	rules := func(rs []*model.Rule) {
		for _, r := range rs {
			for _, s := range []model.Side{r.Source, r.Destination} {
				for _, a := range s.Addresses {
					if a.Kind == model.PrefixAddress {
						addPrefix(a.Prefix)
					}
				}
				for _, pr := range s.Ports {
					ports = append(ports, engine.Port(pr.Lo), engine.Port(pr.Hi), engine.Port(max(int(pr.Lo)-1, 0)), engine.Port(min(int(pr.Hi)+1, 65535)))
				}
			}
		}
	}
	for _, v := range env.VNets {
		for _, p := range append(slices.Clone(v.AddressSpace), v.OnPremPrefixes...) {
			addPrefix(p)
		}
		for _, s := range v.Subnets {
			for _, p := range s.Routes {
				addPrefix(p)
			}
		}
	}
	for _, ps := range env.ServiceTags {
		for _, p := range ps {
			addPrefix(p)
		}
	}
	for _, n := range env.NSGs {
		rules(n.Rules)
	}
	for _, a := range env.AdminRules {
		rules([]*model.Rule{&a.Rule})
	}
	for _, vm := range env.VMs {
		for _, n := range vm.NICs {
			for _, c := range n.IPConfigs {
				addrs = append(addrs, c.PrivateIP)
			}
		}
	}
	return addrs, ports
}

// Estate writes a random estate whose NSGs are large enough to be indexed (some beyond
// 64 rules, so several bitset words), with every kind of address, port list and protocol.
func Estate(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("[service_tags]\n\"Tag.A\" = [\"20.38.96.0/19\", \"52.0.0.0/12\"]\n\"Tag.B\" = [\"13.64.0.0/11\"]\n")
	b.WriteString(`
[[vnet]]
name = "hub"
address_space = ["10.0.0.0/16"]
peerings = ["spoke"]
onprem_prefixes = ["192.168.0.0/16"]
  [[vnet.subnet]]
  name = "a"
  prefix = "10.0.1.0/24"
  nsg = "n0"
  [[vnet.subnet]]
  name = "b"
  prefix = "10.0.2.0/24"
  nsg = "n1"
  routes = ["0.0.0.0/0"]
[[vnet]]
name = "spoke"
address_space = ["10.2.0.0/16"]
  [[vnet.subnet]]
  name = "c"
  prefix = "10.2.0.0/24"
  nsg = "n2"
  routes = ["172.20.0.0/16"]
[[asg]]
name = "g0"
[[asg]]
name = "g1"
[[asg]]
name = "g2"
`)
	for i, sub := range []string{"hub/a", "hub/b", "spoke/c"} {
		base := []string{"10.0.1", "10.0.2", "10.2.0"}[i]
		for j := range 3 {
			asgs := fmt.Sprintf(`["g%d"]`, (i+j)%3)
			if i == 2 { // an ASG's members are all in one VNet: the spoke's NICs are in none
				asgs = "[]"
			}
			fmt.Fprintf(&b, "[[vm]]\nname = \"vm%d%d\"\n[[vm.nic]]\nname = \"nic%d%d\"\nnsg = \"n%d\"\nprivate_ip = \"%s.%d\"\nsubnet = %q\nasgs = %s\n",
				i, j, i, j, (i+j)%3, base, 4+j, sub, asgs)
		}
	}
	protos := []string{"Tcp", "Udp", "Icmp", "Esp", "Ah", "*"}
	addr := func() string {
		switch rng.IntN(10) {
		case 0:
			return `source = "*"`
		case 1:
			return `source = "VirtualNetwork"`
		case 2:
			return `source = "Internet"`
		case 3:
			return `source = "AzureLoadBalancer"`
		case 4:
			return `source = "Tag.A"`
		case 5:
			return fmt.Sprintf(`source_asgs = ["g%d"]`, rng.IntN(3))
		case 6:
			return fmt.Sprintf(`source_asgs = ["g%d", "g%d"]`, rng.IntN(3), rng.IntN(3))
		}
		var ps []string
		for range 1 + rng.IntN(3) {
			ps = append(ps, fmt.Sprintf(`"%d.%d.%d.0/%d"`, []int{10, 13, 20, 52, 172, 192}[rng.IntN(6)], rng.IntN(4), rng.IntN(4)*64, 18+rng.IntN(7)))
		}
		return "source = [" + strings.Join(ps, ", ") + "]"
	}
	ports := func() string {
		if rng.IntN(3) == 0 {
			return `"*"`
		}
		var ps []string
		for range 1 + rng.IntN(3) {
			lo := []int{22, 53, 80, 443, 1000, 3389, 8000, 60000}[rng.IntN(8)] + rng.IntN(3)
			if rng.IntN(2) == 0 {
				ps = append(ps, fmt.Sprintf(`"%d"`, lo))
			} else {
				ps = append(ps, fmt.Sprintf(`"%d-%d"`, lo, lo+rng.IntN(2000)))
			}
		}
		return "[" + strings.Join(ps, ", ") + "]"
	}
	for n := range 3 {
		fmt.Fprintf(&b, "[[nsg]]\nname = \"n%d\"\n", n)
		count := []int{20, 70, 140}[n]
		for r := range count {
			icmpish := false
			proto := protos[rng.IntN(len(protos))]
			icmpish = proto == "Icmp" || proto == "Esp" || proto == "Ah"
			sp, dp := ports(), ports()
			if icmpish {
				sp, dp = `"*"`, `"*"`
			}
			access := []string{"Allow", "Deny"}[rng.IntN(2)]
			fmt.Fprintf(&b, "[[nsg.rule]]\nname = \"r%d\"\npriority = %d\ndirection = %q\naccess = %q\nprotocol = %q\n%s\nsource_ports = %s\n%s\ndestination_ports = %s\n",
				r, 100+r*3+rng.IntN(3), []string{"Inbound", "Outbound"}[r%2], access, proto, addr(), sp,
				strings.Replace(addr(), "source", "destination", 1), dp)
		}
	}
	for r := range 20 {
		access := []string{"Allow", "Deny", "AlwaysAllow", "Allow"}[rng.IntN(4)]
		src := addr()
		if strings.Contains(src, "asgs") {
			src = `source = "*"`
		}
		dst := addr()
		if strings.Contains(dst, "asgs") {
			dst = `source = "Internet"`
		}
		// Admin rules may mix tags and prefixes on one side.
		mixed := []string{`source = ["Internet", "Tag.B", "10.2.0.0/24"]`, `source = ["VirtualNetwork", "Tag.A"]`, `source = ["AzureLoadBalancer", "172.16.0.0/12", "Internet"]`}
		if rng.IntN(3) == 0 {
			src = mixed[rng.IntN(len(mixed))]
		}
		if rng.IntN(3) == 0 {
			dst = mixed[rng.IntN(len(mixed))]
		}
		fmt.Fprintf(&b, "[[admin_rule]]\nname = \"a%d\"\npriority = %d\ndirection = %q\naccess = %q\nprotocol = \"Tcp\"\n%s\n%s\ndestination_ports = [\"%d\"]\n",
			r, 1+r, []string{"Inbound", "Outbound"}[r%2], access, src, strings.Replace(dst, "source", "destination", 1), []int{22, 23, 443, 8080, 9100}[rng.IntN(5)])
	}
	return b.String()
}
