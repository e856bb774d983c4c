package importer

import (
	"fmt"
	"ipflow/internal/tomlw"
	"ipflow/model"
	"sort"
	"strconv"
	"strings"
)

// nameSep joins a resource group and a name when two resources of one kind share a name. It is
// not "/" because a NIC's subnet is written VNET/SUBNET, and it cannot occur in Azure names
// (resource group and resource names never contain ':').
const nameSep = ":"

type nameReq struct {
	key, name, rg, sub string
	set                func(string)
}

// assignNames gives every resource of one kind a fixture name: its Azure name, or, where several
// share a name (in different resource groups or subscriptions), RG:NAME (or SUB:RG:NAME), with
// a warning that says so. The choice depends only on the set of resources, never on input order.
func (im *importer) assignNames(label, labels string, reqs []nameReq) {
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].key < reqs[j].key })
	groups := map[string][]int{}
	var order []string
	for i, r := range reqs {
		ln := strings.ToLower(r.name)
		if _, ok := groups[ln]; !ok {
			order = append(order, ln)
		}
		groups[ln] = append(groups[ln], i)
	}
	sort.Strings(order)
	final := make([]string, len(reqs))
	for _, ln := range order {
		g := groups[ln]
		if len(g) == 1 {
			final[g[0]] = reqs[g[0]].name
			continue
		}
		unique := func(f func(r nameReq) string) bool {
			seen := map[string]bool{}
			for _, i := range g {
				k := strings.ToLower(f(reqs[i]))
				if seen[k] {
					return false
				}
				seen[k] = true
			}
			return true
		}
		byRG := func(r nameReq) string { return r.rg + nameSep + r.name }
		bySub := func(r nameReq) string { return r.sub + nameSep + r.rg + nameSep + r.name }
		var how string
		switch {
		case unique(byRG) && allSet(reqs, g, func(r nameReq) bool { return r.rg != "" }):
			for _, i := range g {
				final[i] = byRG(reqs[i])
			}
			how = "resource groups"
		case unique(bySub) && allSet(reqs, g, func(r nameReq) bool { return r.sub != "" && r.rg != "" }):
			for _, i := range g {
				final[i] = bySub(reqs[i])
			}
			how = "subscriptions"
		default:
			for n, i := range g {
				final[i] = reqs[i].name
				if n > 0 {
					final[i] = fmt.Sprintf("%s~%d", reqs[i].name, n+1)
				}
			}
			how = "exports"
		}
		shown := make([]string, len(g))
		for n, i := range g {
			shown[n] = strconv.Quote(final[i])
		}
		im.warnf("%d %s are named %q in different %s; imported as %s", len(g), labels, reqs[g[0]].name, how, strings.Join(shown, ", "))
	}
	// A qualified name can still meet a real one (names from hand-made JSON may hold ':').
	taken := map[string]bool{}
	for i := range reqs {
		n := final[i]
		for k := 2; taken[strings.ToLower(n)]; k++ {
			n = fmt.Sprintf("%s~%d", final[i], k)
		}
		if n != final[i] {
			im.warnf("%s %q: the name is taken; imported as %q", label, final[i], n)
		}
		taken[strings.ToLower(n)] = true
		reqs[i].set(n)
	}
}

func allSet(reqs []nameReq, g []int, f func(nameReq) bool) bool {
	for _, i := range g {
		if !f(reqs[i]) {
			return false
		}
	}
	return true
}

func (im *importer) names() {
	var reqs []nameReq
	vnets := make([]*outVNet, 0, len(im.vnets))
	for _, v := range im.vnets {
		vnets = append(vnets, v)
	}
	sort.Slice(vnets, func(i, j int) bool { return vnets[i].e.key < vnets[j].e.key })
	for _, v := range vnets {
		name := v.e.name
		if strings.Contains(name, "/") {
			name = strings.ReplaceAll(name, "/", "_")
			im.warnf("%s: %s: a VNet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET); imported as %q", v.e.file, v.e.label(), name)
		}
		reqs = append(reqs, nameReq{v.e.key, name, v.e.rg, v.e.sub, func(s string) { v.name = s }})
	}
	im.assignNames("VNet", "VNets", reqs)
	reqs = nil
	for _, n := range im.nsgs {
		n := n
		reqs = append(reqs, nameReq{n.e.key, n.e.name, n.e.rg, n.e.sub, func(s string) { n.name = s }})
	}
	im.assignNames("NSG", "NSGs", reqs)
	reqs = nil
	for _, a := range im.asgs {
		a := a
		reqs = append(reqs, nameReq{a.e.key, a.e.name, a.e.rg, a.e.sub, func(s string) { a.name = s }})
	}
	im.assignNames("ASG", "ASGs", reqs)
	reqs = nil
	for _, vm := range im.vms {
		vm := vm
		reqs = append(reqs, nameReq{vm.e.key, vm.e.name, vm.e.rg, vm.e.sub, func(s string) { vm.name = s }})
	}
	im.assignNames("VM", "VMs", reqs)
	reqs = nil
	for _, vm := range im.vms {
		for _, n := range vm.nics {
			n := n
			reqs = append(reqs, nameReq{n.e.key, n.e.name, n.e.rg, n.e.sub, func(s string) { n.name = s }})
		}
	}
	im.assignNames("NIC", "NICs", reqs)
}

func byName[T any](xs []T, name func(T) string) {
	sort.Slice(xs, func(i, j int) bool {
		a, b := name(xs[i]), name(xs[j])
		la, lb := strings.ToLower(a), strings.ToLower(b)
		if la != lb {
			return la < lb
		}
		return a < b
	})
}

// emit names everything and writes the fixture.
func (im *importer) emit(files []string, st *Stats) []byte {
	im.names()
	w := tomlw.New(1 << 16)
	w.Comment("", "ipflow fixture written by `ipflow import` from:")
	for _, f := range files {
		w.Comment("", "  "+f)
	}
	w.Comment("", "Azure's six default security rules are not listed: ipflow gives them to every NSG.")
	w.Comment("", "Re-run the import to refresh it; what could not be imported was reported as warnings.")

	if len(im.usedTags) > 0 {
		tags := make([]*tagEntry, 0, len(im.usedTags))
		for _, t := range im.usedTags {
			tags = append(tags, t)
		}
		byName(tags, func(t *tagEntry) string { return t.name })
		w.Line("", "")
		w.Comment("", "The service tags the rules use, with their IPv4 prefixes from the Service Tags file.")
		w.Line("", "[service_tags]")
		for _, t := range tags {
			w.List("", string(model.AppendTOMLString(nil, t.name)), t.v4)
		}
		st.ServiceTags = len(tags)
	}

	vnets := make([]*outVNet, 0, len(im.vnets))
	for _, v := range im.vnets {
		vnets = append(vnets, v)
	}
	byName(vnets, func(v *outVNet) string { return v.name })
	for _, v := range vnets {
		w.Line("", "")
		if v.stub {
			w.Comment("", "Not exported: known from a peering, with the address space the peering shows.")
		}
		if v.e.id != "" {
			w.Comment("", v.e.id)
		}
		w.Line("", "[[vnet]]")
		w.Str("", "name", v.name)
		w.List("", "address_space", v.space)
		if len(v.peers) > 0 {
			peers := make([]string, len(v.peers))
			for i, p := range v.peers {
				peers[i] = p.name
			}
			sort.Strings(peers)
			w.List("", "peerings", peers)
			st.Peerings += len(peers)
		}
		for _, s := range v.subnets {
			w.Line("", "")
			w.Line("  ", "[[vnet.subnet]]")
			w.Str("  ", "name", s.name)
			w.Str("  ", "prefix", s.prefix.String())
			if s.nsg != nil {
				w.Str("  ", "nsg", s.nsg.name)
			}
			if len(s.routes) > 0 {
				w.List("  ", "routes", s.routes)
			}
			st.Subnets++
		}
		st.VNets++
	}

	nsgs := make([]*outNSG, 0, len(im.nsgs))
	for _, n := range im.nsgs {
		nsgs = append(nsgs, n)
	}
	byName(nsgs, func(n *outNSG) string { return n.name })
	for _, n := range nsgs {
		w.Line("", "")
		if n.e.id != "" {
			w.Comment("", n.e.id)
		}
		w.Line("", "[[nsg]]")
		w.Str("", "name", n.name)
		if n.e.rg != "" {
			w.Str("", "resource_group", n.e.rg)
		}
		for _, r := range n.rules {
			w.Line("", "")
			w.Line("  ", "[[nsg.rule]]")
			w.Str("  ", "name", r.name)
			w.Int("  ", "priority", r.priority)
			w.Str("  ", "direction", r.direction)
			w.Str("  ", "access", r.access)
			w.Str("  ", "protocol", r.protocol)
			side(w, "source", &r.src)
			side(w, "destination", &r.dst)
			if r.description != "" {
				w.Str("  ", "description", r.description)
			}
			st.Rules++
		}
		st.NSGs++
	}

	asgs := make([]*outASG, 0, len(im.asgs))
	for _, a := range im.asgs {
		asgs = append(asgs, a)
	}
	byName(asgs, func(a *outASG) string { return a.name })
	for _, a := range asgs {
		w.Line("", "")
		if a.e.id != "" {
			w.Comment("", a.e.id)
		}
		w.Line("", "[[asg]]")
		w.Str("", "name", a.name)
		st.ASGs++
	}

	vms := im.vms
	byName(vms, func(v *outVM) string { return v.name })
	for _, vm := range vms {
		w.Line("", "")
		if vm.e.id != "" {
			w.Comment("", vm.e.id)
		}
		w.Line("", "[[vm]]")
		w.Str("", "name", vm.name)
		w.Str("", "power_state", vm.power)
		for _, n := range vm.nics {
			w.Line("", "")
			w.Line("  ", "[[vm.nic]]")
			w.Str("  ", "name", n.name)
			if n.nsg != nil {
				w.Str("  ", "nsg", n.nsg.name)
			}
			w.Bool("  ", "primary", n.primary)
			if n.fwd {
				w.Bool("  ", "ip_forwarding", true)
			}
			for _, c := range n.ipcs {
				w.Line("", "")
				w.Line("    ", "[[vm.nic.ip_config]]")
				w.Str("    ", "name", c.name)
				w.Str("    ", "private_ip", c.ip.String())
				w.Str("    ", "subnet", c.subnet.vnet.name+"/"+c.subnet.name)
				if len(c.asgs) > 0 {
					names := make([]string, len(c.asgs))
					for i, a := range c.asgs {
						names[i] = a.name
					}
					w.List("    ", "asgs", names)
				}
				w.Bool("    ", "primary", c.primary)
				st.IPConfigs++
			}
			st.NICs++
		}
		st.VMs++
	}
	return w.Bytes()
}

func side(w *tomlw.Writer, which string, s *outSide) {
	if len(s.asgs) > 0 {
		names := make([]string, len(s.asgs))
		for i, a := range s.asgs {
			names[i] = a.name
		}
		w.List("  ", which+"_asgs", names)
	} else {
		w.StrOrList("  ", which, s.addrs)
	}
	w.StrOrList("  ", which+"_ports", s.ports)
}
