package importer

import (
	"fmt"
	"ipflow/model"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

func (im *importer) buildNSG(e *entry) *outNSG {
	n := &outNSG{e: e}
	where := lazy(func() string { return e.file + ": " + e.label() })
	seen := map[string]bool{}
	var rules []*outRule
	addRule := func(id, name string, f *ruleFields, file string) {
		// The same rule can come from nsgs.json and from a rule list; only an ID says so.
		if key := idKey(id); key != "" {
			if seen[key] {
				return
			}
			seen[key] = true
		}
		if isDefaultRule(name, id, f.Priority) {
			return
		}
		if r := im.convertRule(lazy(func() string { return file + ": " + e.label() }), name, f); r != nil {
			rules = append(rules, r)
		}
	}
	for i := range e.r.SecurityRules {
		sr := &e.r.SecurityRules[i]
		name := strings.TrimSpace(sr.Name)
		if name == "" {
			if id, ok := parseID(sr.ID); ok {
				name = id.last()
			}
		}
		addRule(sr.ID, name, &sr.ruleFields, e.file)
	}
	for _, c := range im.children[kRule][e.key] {
		addRule(c.id, c.name, &c.r.ruleFields, c.file)
	}
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		if a.direction != b.direction {
			return a.direction == "Inbound"
		}
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		return a.name < b.name
	})
	// Azure: priority unique per direction (SecurityRuleConflict); names unique in the NSG.
	names := map[string]bool{}
	prios := map[string]string{}
	asgs := map[*outASG]bool{}
	for _, r := range rules {
		pk := fmt.Sprintf("%s/%d", r.direction, r.priority)
		if other, ok := prios[pk]; ok {
			im.warnf("%s, rule %q: has the same priority (%d) and direction as rule %q; rule skipped", where, r.name, r.priority, other)
			continue
		}
		if len(n.rules) == model.MaxRulesPerNSG {
			im.warnf("%s, rule %q: beyond the %d rules an NSG can hold; rule skipped", where, r.name, model.MaxRulesPerNSG)
			continue
		}
		var added []*outASG
		for _, a := range slices.Concat(r.src.asgs, r.dst.asgs) {
			if !asgs[a] && !slices.Contains(added, a) {
				added = append(added, a)
			}
		}
		if len(asgs)+len(added) > model.MaxASGsPerNSG {
			im.warnf("%s, rule %q: its ASGs would bring the NSG's rules beyond the %d application security groups Azure allows in one NSG; rule skipped", where, r.name, model.MaxASGsPerNSG)
			continue
		}
		for _, a := range added {
			asgs[a] = true
		}
		base := r.name
		for i := 2; names[strings.ToLower(r.name)]; i++ {
			suffix := fmt.Sprintf("_%d", i)
			r.name = base[:min(len(base), 80-len(suffix))] + suffix
		}
		if r.name != base {
			im.warnf("%s, rule %q: another rule has the same name; imported as %q", where, base, r.name)
		}
		names[strings.ToLower(r.name)] = true
		prios[pk] = r.name
		n.rules = append(n.rules, r)
	}
	return n
}

// convertRule converts one custom rule, or warns and returns nil when ipflow cannot represent it.
func (im *importer) convertRule(where lazy, name string, f *ruleFields) *outRule {
	desc := lazy(func() string { return fmt.Sprintf("%s, rule %q", where, name) })
	skip := func(format string, a ...any) *outRule {
		im.warnf("%s: %s; rule skipped", desc, fmt.Sprintf(format, a...))
		return nil
	}
	if name == "" {
		return skip("it has no name")
	}
	r := &outRule{name: name}
	switch {
	case f.Priority.Bad != "":
		return skip("priority %s is not a number", f.Priority.Bad)
	case !f.Priority.Set:
		return skip("it has no priority")
	case f.Priority.V < 100 || f.Priority.V > 4096:
		return skip("priority %d is outside 100..4096", f.Priority.V)
	}
	r.priority = f.Priority.V
	var ok bool
	if r.direction, ok = normDirection(f.Direction); !ok {
		return skip("direction %q is not Inbound or Outbound", f.Direction)
	}
	if r.access, ok = normAccess(f.Access); !ok {
		return skip("access %q is not Allow or Deny", f.Access)
	}
	if r.protocol, ok = normProtocol(f.Protocol); !ok {
		return skip("protocol %q is not one of Tcp, Udp, Icmp, Esp, Ah, * (Any)", f.Protocol)
	}
	var notes []string
	for _, s := range []struct {
		which  string
		single string
		plural []string
		asgs   []ref
		ps     string
		pp     []string
		out    *outSide
	}{
		{"source", f.SourceAddressPrefix, f.SourceAddressPrefixes, f.SourceApplicationSecurityGroups, f.SourcePortRange, f.SourcePortRanges, &r.src},
		{"destination", f.DestinationAddressPrefix, f.DestinationAddressPrefixes, f.DestinationApplicationSecurityGroups, f.DestinationPortRange, f.DestinationPortRanges, &r.dst},
	} {
		why, n := im.convertSide(r, s.which, s.single, s.plural, s.asgs, s.out)
		if why != "" {
			return skip("%s", why)
		}
		notes = append(notes, n...)
		ports, bad, missing := normPorts(s.ps, s.pp)
		if bad != "" {
			return skip("%s port %q is not *, N or N-M with ports 0..65535", s.which, bad)
		}
		if missing {
			notes = append(notes, fmt.Sprintf("it has no %s port range; imported as *", s.which))
		}
		s.out.ports = ports
	}
	if !ruleNameOK(name) {
		r.name = fixRuleName(name)
		notes = append(notes, fmt.Sprintf("its name does not follow Azure's pattern for rule names; imported as %q", r.name))
	}
	r.description = f.Description
	if utf8.RuneCountInString(r.description) > model.MaxDescription {
		rs := []rune(r.description)
		r.description = string(rs[:model.MaxDescription])
		notes = append(notes, fmt.Sprintf("its description is longer than %d characters; cut to %d", model.MaxDescription, model.MaxDescription))
	}
	for _, n := range notes {
		im.warnf("%s: %s", desc, n)
	}
	return r
}

// bothSidesInOneVNet drops the rules whose source and destination are both ASGs with members in
// different VNets (Azure refuses them); run once ASG members are known.
func (im *importer) bothSidesInOneVNet() {
	for _, e := range im.sorted(kNSG) {
		n := im.nsgs[e.key]
		kept := n.rules[:0]
		for _, r := range n.rules {
			if len(r.src.asgs) > 0 && len(r.dst.asgs) > 0 {
				var home *outASG
				split := false
				for _, a := range slices.Concat(r.src.asgs, r.dst.asgs) {
					switch {
					case a.vnet == nil:
					case home == nil:
						home = a
					case a.vnet != home.vnet:
						im.warnf("%s: %s, rule %q: ASG %q has its members in VNet %q and ASG %q in VNet %q; Azure requires the ASGs of a rule with ASGs on both sides in one VNet; rule skipped",
							e.file, e.label(), r.name, home.e.name, home.vnet.e.name, a.e.name, a.vnet.e.name)
						split = true
					}
					if split {
						break
					}
				}
				if split {
					continue
				}
			}
			kept = append(kept, r)
		}
		n.rules = kept
	}
}

// convertSide converts the addresses or ASGs of one side of a rule. It returns why the rule cannot
// be imported, or notes about what was changed.
func (im *importer) convertSide(r *outRule, which, single string, plural []string, asgRefs []ref, out *outSide) (string, []string) {
	var vals []string
	if s := strings.TrimSpace(single); s != "" {
		vals = append(vals, s)
	}
	for _, p := range plural {
		if p = strings.TrimSpace(p); p != "" {
			vals = append(vals, p)
		}
	}
	var refs []string
	for _, a := range asgRefs {
		if id := strings.TrimSpace(a.ID); id != "" {
			refs = append(refs, id)
		}
	}
	switch {
	case len(vals) > 0 && len(refs) > 0:
		return fmt.Sprintf("it has both address prefixes and application security groups as its %s", which), nil
	case len(vals) == 0 && len(refs) == 0:
		return fmt.Sprintf("it has no %s address or application security group", which), nil
	case len(refs) > model.MaxASGsPerSide:
		return fmt.Sprintf("it has %d %s application security groups; Azure allows %d", len(refs), which, model.MaxASGsPerSide), nil
	case len(refs) > 0:
		seen := map[*outASG]bool{}
		for _, id := range refs {
			a := im.asgRef(id)
			if a == nil {
				return fmt.Sprintf("%s application security group id %q is not an Azure resource id", which, id), nil
			}
			if !seen[a] {
				seen[a] = true
				out.asgs = append(out.asgs, a)
			}
		}
		return "", nil
	}
	var notes []string
	var v4, tags []string
	star, v6 := false, 0
	seen := map[string]bool{}
	for _, v := range vals {
		k, canon, masked := parsePrefix(v)
		switch k {
		case pStar:
			star = true
		case pV4:
			if masked {
				notes = append(notes, fmt.Sprintf("%s %q has host bits set; imported as %s", which, v, canon))
			}
			if !seen[canon] {
				seen[canon] = true
				v4 = append(v4, canon)
			}
		case pV6:
			v6++
		case pTag:
			lv := strings.ToLower(v)
			if lv == "any" || lv == "all" {
				return fmt.Sprintf("%s %q is not an address (Azure writes * for any address)", which, v), nil
			}
			if b, ok := builtinTags[lv]; ok {
				canon = b
			} else if te, ok := im.tags[lv]; ok {
				if len(te.v4) == 0 {
					return fmt.Sprintf("%s service tag %q has no IPv4 prefixes in %s (ipflow evaluates IPv4 only)", which, v, te.file), nil
				}
				canon = te.name
				r.tags = append(r.tags, lv)
			} else if len(im.tags) == 0 {
				return fmt.Sprintf("%s service tag %q is unknown: no Service Tags file (ServiceTags_Public_*.json) was given", which, v), nil
			} else {
				return fmt.Sprintf("%s service tag %q is not in the Service Tags file", which, v), nil
			}
			if !seen[canon] {
				seen[canon] = true
				tags = append(tags, canon)
			}
		default:
			return fmt.Sprintf("%s %q is not an IPv4 address, CIDR, * or service tag", which, v), nil
		}
	}
	switch {
	case star:
		out.addrs = []string{"*"}
	case len(v4) > model.MaxPrefixesPerSide:
		return fmt.Sprintf("its %s has %d IP addresses and ranges; Azure allows at most %d per side", which, len(v4), model.MaxPrefixesPerSide), nil
	case len(tags) > 0 && len(tags)+len(v4) > 1:
		return fmt.Sprintf("its %s mixes service tag %s with other addresses; a tag must stand alone", which, quoteList(tags)), nil
	case len(tags)+len(v4) == 0:
		return fmt.Sprintf("its %s is IPv6 only, which ipflow does not support yet (the rule cannot match IPv4 traffic)", which), nil
	case len(tags) == 1:
		out.addrs = tags
	default:
		out.addrs = v4
	}
	if v6 > 0 && !star {
		notes = append(notes, fmt.Sprintf("%s dropped (ipflow supports IPv4 only)", countOf(v6, "IPv6 "+which+" prefix", "IPv6 "+which+" prefixes")))
	}
	return "", notes
}

// asgRef returns the ASG a reference points to, making it from the ID when asgs.json did not list
// it (an ASG has nothing but its name).
func (im *importer) asgRef(refID string) *outASG {
	if e := im.lookup(kASG, refID); e != nil {
		if a, ok := im.asgs[e.key]; ok {
			return a
		}
	}
	id, ok := parseID(refID)
	if !ok {
		return nil
	}
	e := im.ensure(kASG, idKey(refID), id.last(), id.rg, id.sub, "")
	a := &outASG{e: e}
	im.asgs[e.key] = a
	return a
}
