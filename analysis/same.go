package analysis

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// sameness compares two estates resource by resource, each once, so that Diff can skip a NIC
// when everything its evaluation reads is written the same in both: its NSGs' rules, the ASGs
// and tags they name, its subnet's VirtualNetwork (VNet, peers, routes), the admin rules, its
// own address and ASGs. Anything else goes to the exact comparison of resolved rules.
type sameness struct {
	before, after *model.Environment
	nsg           map[string]bool
	subnet        map[string]bool
	asgChanged    map[string]bool
	global        bool // admin rules and service tags are the same
}

func newSameness(before, after *model.Environment) *sameness {
	s := &sameness{before: before, after: after, nsg: map[string]bool{}, subnet: map[string]bool{}, asgChanged: map[string]bool{}}
	members := func(env *model.Environment) map[string]string {
		m := map[string]string{}
		for _, g := range env.ASGs {
			var ips []string
			for _, c := range g.Members {
				ips = append(ips, c.PrivateIP.String())
			}
			slices.Sort(ips)
			m[g.Name] = strings.Join(ips, ",")
		}
		return m
	}
	mb, ma := members(before), members(after)
	for name, v := range ma {
		if w, ok := mb[name]; !ok || w != v {
			s.asgChanged[name] = true
		}
	}
	for name := range mb {
		if _, ok := ma[name]; !ok {
			s.asgChanged[name] = true
		}
	}
	s.global = adminText(before) == adminText(after) && maps.EqualFunc(before.ServiceTags, after.ServiceTags, slices.Equal)
	return s
}

// nsgSame reports whether NSG name (possibly "", no NSG) is written the same in both estates
// and names no ASG whose members changed.
func (s *sameness) nsgSame(name string) bool {
	if name == "" {
		return true
	}
	if v, ok := s.nsg[name]; ok {
		return v
	}
	find := func(env *model.Environment) *model.NSG {
		for _, n := range env.NSGs {
			if n.Name == name {
				return n
			}
		}
		return nil
	}
	b, a := find(s.before), find(s.after)
	same := b != nil && a != nil && len(b.Rules) == len(a.Rules)
	for i := 0; same && i < len(b.Rules); i++ {
		same = ruleText(b.Rules[i]) == ruleText(a.Rules[i]) && !s.namesChangedASG(a.Rules[i])
	}
	s.nsg[name] = same
	return same
}

func (s *sameness) namesChangedASG(r *model.Rule) bool {
	for _, g := range slices.Concat(r.Source.ASGs, r.Destination.ASGs) {
		if s.asgChanged[g.Name] {
			return true
		}
	}
	return false
}

// subnetSame reports whether what VirtualNetwork holds for subnet path is written the same.
func (s *sameness) subnetSame(b, a *model.Subnet) bool {
	path := b.Path()
	if v, ok := s.subnet[path]; ok {
		return v
	}
	same := path == a.Path() && subnetText(b) == subnetText(a)
	s.subnet[path] = same
	return same
}

// targetSame reports whether a NIC's evaluation reads only things written the same.
func (s *sameness) targetSame(b, a engine.Target) bool {
	cb, ca := b.IPConfig(), a.IPConfig()
	return s.global && cb.PrivateIP == ca.PrivateIP && asgNames(cb.ASGs) == asgNames(ca.ASGs) &&
		s.subnetSame(cb.Subnet, ca.Subnet) && nsgName(cb.NIC.NSG) == nsgName(ca.NIC.NSG) && nsgName(cb.Subnet.NSG) == nsgName(ca.Subnet.NSG) &&
		s.nsgSame(nsgName(ca.NIC.NSG)) && s.nsgSame(nsgName(ca.Subnet.NSG))
}

func nsgName(n *model.NSG) string {
	if n == nil {
		return ""
	}
	return n.Name
}

func asgNames(gs []*model.ASG) string {
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// ruleText is a rule as written, every field that decides what it matches and how.
func ruleText(r *model.Rule) string {
	side := func(sd model.Side) string {
		addrs := make([]string, len(sd.Addresses))
		for i, a := range sd.Addresses {
			addrs[i] = a.String()
		}
		return strings.Join(addrs, ",") + "|" + asgNames(sd.ASGs) + "|" + model.FormatPorts(sd.Ports)
	}
	return fmt.Sprintf("%s|%d|%d|%d|%d|%d|%s|%s", r.Name, r.Kind, r.Priority, r.Direction, r.Access, r.Protocol, side(r.Source), side(r.Destination))
}

func adminText(env *model.Environment) string {
	var b strings.Builder
	for _, a := range env.AdminRules {
		b.WriteString(ruleText(&a.Rule))
		for _, v := range a.VNets {
			b.WriteString("|" + v.Name)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// subnetText is what VirtualNetwork and Internet depend on for NICs in the subnet.
func subnetText(sub *model.Subnet) string {
	v := sub.VNet
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%v|%v|%v", v.Name, v.AddressSpace, v.OnPremPrefixes, sub.Routes)
	for _, p := range v.Peers {
		fmt.Fprintf(&b, "|%s %v %v", p.Name, p.AddressSpace, p.OnPremPrefixes)
	}
	return b.String()
}
