package importer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
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

// tomlWriter writes the fixture.
type tomlWriter struct {
	b []byte
}

func (w *tomlWriter) line(indent string, s string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, s...)
	w.b = append(w.b, '\n')
}

// str writes key = "value".
func (w *tomlWriter) str(indent, key, val string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, key...)
	w.b = append(w.b, " = "...)
	w.b = appendQuoted(w.b, val)
	w.b = append(w.b, '\n')
}

func (w *tomlWriter) boolean(indent, key string, v bool) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, key...)
	w.b = append(w.b, " = "...)
	w.b = strconv.AppendBool(w.b, v)
	w.b = append(w.b, '\n')
}

func (w *tomlWriter) integer(indent, key string, v int) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, key...)
	w.b = append(w.b, " = "...)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
	w.b = append(w.b, '\n')
}

// list writes key = ["a", "b"], wrapping long lists over several lines.
func (w *tomlWriter) list(indent, key string, vals []string) {
	start := len(w.b)
	w.b = append(w.b, indent...)
	w.b = append(w.b, key...)
	w.b = append(w.b, " = ["...)
	single := len(w.b)
	for i, v := range vals {
		if i > 0 {
			w.b = append(w.b, ", "...)
		}
		w.b = appendQuoted(w.b, v)
	}
	w.b = append(w.b, ']')
	if len(w.b)-start <= 100 {
		w.b = append(w.b, '\n')
		return
	}
	// Too long for one line: wrap at about 100 columns.
	w.b = w.b[:single]
	w.b = append(w.b, '\n')
	lineStart := len(w.b)
	w.b = append(w.b, indent...)
	w.b = append(w.b, "  "...)
	for i, v := range vals {
		item := appendQuoted(nil, v)
		if len(w.b)-lineStart+len(item)+1 > 100 && len(w.b)-lineStart > len(indent)+2 {
			w.b = append(w.b, '\n')
			lineStart = len(w.b)
			w.b = append(w.b, indent...)
			w.b = append(w.b, "  "...)
		} else if i > 0 {
			w.b = append(w.b, ' ')
		}
		w.b = append(w.b, item...)
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, indent...)
	w.b = append(w.b, "]\n"...)
}

// strOrList writes a single value as a string and several as a list.
func (w *tomlWriter) strOrList(indent, key string, vals []string) {
	if len(vals) == 1 {
		w.str(indent, key, vals[0])
		return
	}
	w.list(indent, key, vals)
}

// comment writes "# text", with anything unprintable in text escaped.
func (w *tomlWriter) comment(indent, text string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, "# "...)
	clean := true
	for _, r := range text {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			clean = false
			break
		}
	}
	if clean {
		w.b = append(w.b, text...)
	} else {
		q := strconv.QuoteToASCII(text)
		w.b = append(w.b, q[1:len(q)-1]...)
	}
	w.b = append(w.b, '\n')
}

// appendQuoted appends s as a TOML basic string.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r < 0x20 || r == 0x7f:
			b = append(b, fmt.Sprintf("\\u%04X", r)...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
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
	w := &tomlWriter{b: make([]byte, 0, 1<<16)}
	w.comment("", "ipflow fixture written by `ipflow import` from:")
	for _, f := range files {
		w.comment("", "  "+f)
	}
	w.comment("", "Azure's six default security rules are not listed: ipflow gives them to every NSG.")
	w.comment("", "Re-run the import to refresh it; what could not be imported was reported as warnings.")

	if len(im.usedTags) > 0 {
		tags := make([]*tagEntry, 0, len(im.usedTags))
		for _, t := range im.usedTags {
			tags = append(tags, t)
		}
		byName(tags, func(t *tagEntry) string { return t.name })
		w.line("", "")
		w.comment("", "The service tags the rules use, with their IPv4 prefixes from the Service Tags file.")
		w.line("", "[service_tags]")
		for _, t := range tags {
			w.list("", string(appendQuoted(nil, t.name)), t.v4)
		}
		st.ServiceTags = len(tags)
	}

	vnets := make([]*outVNet, 0, len(im.vnets))
	for _, v := range im.vnets {
		vnets = append(vnets, v)
	}
	byName(vnets, func(v *outVNet) string { return v.name })
	for _, v := range vnets {
		w.line("", "")
		if v.stub {
			w.comment("", "Not exported: known from a peering, with the address space the peering shows.")
		}
		if v.e.id != "" {
			w.comment("", v.e.id)
		}
		w.line("", "[[vnet]]")
		w.str("", "name", v.name)
		w.list("", "address_space", v.space)
		if len(v.peers) > 0 {
			peers := make([]string, len(v.peers))
			for i, p := range v.peers {
				peers[i] = p.name
			}
			sort.Strings(peers)
			w.list("", "peerings", peers)
			st.Peerings += len(peers)
		}
		for _, s := range v.subnets {
			w.line("", "")
			w.line("  ", "[[vnet.subnet]]")
			w.str("  ", "name", s.name)
			w.str("  ", "prefix", s.prefix.String())
			if s.nsg != nil {
				w.str("  ", "nsg", s.nsg.name)
			}
			if len(s.routes) > 0 {
				w.list("  ", "routes", s.routes)
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
		w.line("", "")
		if n.e.id != "" {
			w.comment("", n.e.id)
		}
		w.line("", "[[nsg]]")
		w.str("", "name", n.name)
		for _, r := range n.rules {
			w.line("", "")
			w.line("  ", "[[nsg.rule]]")
			w.str("  ", "name", r.name)
			w.integer("  ", "priority", r.priority)
			w.str("  ", "direction", r.direction)
			w.str("  ", "access", r.access)
			w.str("  ", "protocol", r.protocol)
			w.side("source", &r.src)
			w.side("destination", &r.dst)
			if r.description != "" {
				w.str("  ", "description", r.description)
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
		w.line("", "")
		if a.e.id != "" {
			w.comment("", a.e.id)
		}
		w.line("", "[[asg]]")
		w.str("", "name", a.name)
		st.ASGs++
	}

	vms := im.vms
	byName(vms, func(v *outVM) string { return v.name })
	for _, vm := range vms {
		w.line("", "")
		if vm.e.id != "" {
			w.comment("", vm.e.id)
		}
		w.line("", "[[vm]]")
		w.str("", "name", vm.name)
		w.str("", "power_state", vm.power)
		for _, n := range vm.nics {
			w.line("", "")
			w.line("  ", "[[vm.nic]]")
			w.str("  ", "name", n.name)
			if n.nsg != nil {
				w.str("  ", "nsg", n.nsg.name)
			}
			w.boolean("  ", "primary", n.primary)
			if n.fwd {
				w.boolean("  ", "ip_forwarding", true)
			}
			for _, c := range n.ipcs {
				w.line("", "")
				w.line("    ", "[[vm.nic.ip_config]]")
				w.str("    ", "name", c.name)
				w.str("    ", "private_ip", c.ip.String())
				w.str("    ", "subnet", c.subnet.vnet.name+"/"+c.subnet.name)
				if len(c.asgs) > 0 {
					names := make([]string, len(c.asgs))
					for i, a := range c.asgs {
						names[i] = a.name
					}
					w.list("    ", "asgs", names)
				}
				w.boolean("    ", "primary", c.primary)
				st.IPConfigs++
			}
			st.NICs++
		}
		st.VMs++
	}
	return w.b
}

func (w *tomlWriter) side(which string, s *outSide) {
	if len(s.asgs) > 0 {
		names := make([]string, len(s.asgs))
		for i, a := range s.asgs {
			names[i] = a.name
		}
		w.list("  ", which+"_asgs", names)
	} else {
		w.strOrList("  ", which, s.addrs)
	}
	w.strOrList("  ", which+"_ports", s.ports)
}
