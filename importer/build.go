package importer

import (
	"bytes"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"unicode/utf8"
)

// entry is one Azure resource read from the input, before conversion.
type entry struct {
	kind      kind
	key       string // idKey of its ID, or a synthetic key when it has none
	name      string // Azure's name
	rg, sub   string
	id        string
	file      string
	r         *resource
	raw       []byte
	synthetic bool // made from a reference, not read from a file
}

// label names the resource in a warning: NSG "web" (rg-a).
func (e *entry) label() string {
	l := fmt.Sprintf("%s %q", kindLabel[e.kind], e.name)
	if e.rg != "" {
		l += " (" + e.rg + ")"
	}
	return l
}

var kindLabel = map[kind]string{
	kVNet: "VNet", kSubnet: "subnet", kPeering: "peering", kNSG: "NSG", kRule: "rule",
	kDefaultRule: "default rule", kNIC: "NIC", kVM: "VM", kASG: "ASG", kRouteTable: "route table",
	kRoute: "route", kAdminRule: "admin rule", kInstanceView: "VM instance view",
}

type tagEntry struct {
	name string
	v4   []string
	v6   int
	file string
}

// Converted resources, linked by pointer; names are assigned last.
type (
	outVNet struct {
		e       *entry
		name    string
		space   []string
		spaceP  []netip.Prefix
		peers   []*outVNet
		subnets []*outSubnet
		stub    bool
		ips     map[netip.Addr]string // private IPs in use -> NIC label
	}
	outSubnet struct {
		key    string
		name   string
		prefix netip.Prefix
		nsg    *outNSG
		routes []string
		vnet   *outVNet
	}
	outNSG struct {
		e     *entry
		name  string
		rules []*outRule
	}
	outRule struct {
		name        string
		priority    int
		direction   string
		access      string
		protocol    string
		src, dst    outSide
		description string
		tags        []string
	}
	outSide struct {
		addrs []string
		asgs  []*outASG
		ports []string
	}
	outASG struct {
		e    *entry
		name string
		vnet *outVNet // the VNet of its members
	}
	outVM struct {
		e     *entry
		name  string
		power string
		nics  []*outNIC
	}
	outNIC struct {
		e       *entry
		name    string
		nsg     *outNSG
		primary bool
		fwd     bool
		ipcs    []*outIPC
	}
	outIPC struct {
		name    string
		ip      netip.Addr
		subnet  *outSubnet
		asgs    []*outASG
		primary bool
	}
)

type importer struct {
	warnings []string
	seenWarn map[string]bool

	entries  map[kind]map[string]*entry
	byName   map[kind]map[string][]*entry // entries without an ID, for references by name
	children map[kind]map[string][]*entry // subnets, peerings, rules, routes by parent key
	tags     map[string]*tagEntry         // lower-case name

	nsgOfSubnet map[string]string // back-references from NSGs and route tables
	nsgOfNIC    map[string]string
	rtOfSubnet  map[string]string

	vnets    map[string]*outVNet
	subnets  map[string]*outSubnet
	nsgs     map[string]*outNSG
	asgs     map[string]*outASG
	vms      []*outVM
	routes   map[string][]string // route table key -> destination prefixes
	usedTags map[string]*tagEntry
	noPower  map[string][]string // file -> VMs without a power state
}

func newImporter() *importer {
	return &importer{
		seenWarn:    map[string]bool{},
		entries:     map[kind]map[string]*entry{},
		byName:      map[kind]map[string][]*entry{},
		children:    map[kind]map[string][]*entry{},
		tags:        map[string]*tagEntry{},
		nsgOfSubnet: map[string]string{},
		nsgOfNIC:    map[string]string{},
		rtOfSubnet:  map[string]string{},
		vnets:       map[string]*outVNet{},
		subnets:     map[string]*outSubnet{},
		nsgs:        map[string]*outNSG{},
		asgs:        map[string]*outASG{},
		routes:      map[string][]string{},
		usedTags:    map[string]*tagEntry{},
		noPower:     map[string][]string{},
	}
}

func (im *importer) warnf(format string, a ...any) {
	w := fmt.Sprintf(format, a...)
	if !im.seenWarn[w] {
		im.seenWarn[w] = true
		im.warnings = append(im.warnings, w)
	}
}

// addTags indexes a Service Tags file.
func (im *importer) addTags(d *decoded) {
	for _, t := range d.tags {
		name := strings.TrimSpace(orStr(t.Name, t.ID))
		if name == "" {
			continue
		}
		te := &tagEntry{name: name, file: d.name}
		seen := map[string]bool{}
		for _, p := range orSlice(t.Properties.AddressPrefixes, t.AddressPrefixes) {
			switch k, canon, _ := parseCIDR(p); k {
			case pV4:
				if !seen[canon] {
					seen[canon] = true
					te.v4 = append(te.v4, canon)
				}
			case pV6:
				te.v6++
			}
		}
		lk := strings.ToLower(name)
		if old, ok := im.tags[lk]; ok {
			if strings.Join(old.v4, ",") != strings.Join(te.v4, ",") {
				im.warnf("%s: service tag %q is also in %s with other prefixes; the one in %s is used", d.name, name, old.file, old.file)
			}
			continue
		}
		im.tags[lk] = te
	}
}

// add registers one top-level resource.
func (im *importer) add(it *item, file string) {
	r := it.r
	id, hasID := parseID(r.ID)
	e := &entry{kind: it.kind, name: strings.TrimSpace(r.Name), rg: strings.TrimSpace(r.ResourceGroup),
		id: strings.TrimSpace(r.ID), file: file, r: r, raw: it.raw()}
	if hasID {
		if e.name == "" {
			e.name = id.last()
		}
		e.rg, e.sub = id.rg, id.sub
	}
	switch it.kind {
	case kAdminRule:
		im.warnf("%s: %s: Azure Virtual Network Manager admin rules are not imported (the export does not say which VNets their network groups hold); add it as [[admin_rule]] by hand", file, e.label())
		return
	case kInstanceView:
		im.warnf("%s: a VM instance view without the VM's id: its power state cannot be matched to a VM; use az vm list -d", file)
		return
	case kSubnet, kPeering, kRule, kDefaultRule, kRoute:
		parent := ""
		if hasID {
			parent = parentKey(e.id)
		}
		if parent == "" || len(id.names) < 2 {
			im.warnf("%s: %s has no resource id, so it cannot be matched to its %s; skipped", file, e.label(), parentLabel[it.kind])
			return
		}
		if it.kind == kRule || it.kind == kDefaultRule {
			// A rule file alone is enough to know its NSG exists.
			im.ensure(kNSG, parent, id.names[0], id.rg, id.sub, file)
		}
		if it.kind == kDefaultRule {
			return // ipflow adds Azure's default rules to every NSG
		}
		m := im.children[it.kind]
		if m == nil {
			m = map[string][]*entry{}
			im.children[it.kind] = m
		}
		e.key = idKey(e.id)
		m[parent] = append(m[parent], e)
		return
	}
	if e.name == "" {
		im.warnf("%s: a %s with neither a name nor an id; skipped", file, it.kind)
		return
	}
	if e.id != "" {
		e.key = idKey(e.id)
	} else {
		e.key = fmt.Sprintf("~%d/%s/%s", it.kind, strings.ToLower(e.rg), strings.ToLower(e.name))
	}
	m := im.entries[it.kind]
	if m == nil {
		m = map[string]*entry{}
		im.entries[it.kind] = m
	}
	if old, ok := m[e.key]; ok {
		if old.synthetic {
			m[e.key] = e // a real export beats what was inferred from a reference
			return
		}
		if it.kind == kVM && vmPower(old.r) == "" && vmPower(r) != "" {
			old.r.PowerState = vmPower(r)
		}
		if !bytes.Equal(old.raw, e.raw) && old.file != file {
			im.warnf("%s: %s is also in %s; the one in %s is used", file, e.label(), old.file, old.file)
		}
		return
	}
	m[e.key] = e
	if e.id == "" {
		bn := im.byName[it.kind]
		if bn == nil {
			bn = map[string][]*entry{}
			im.byName[it.kind] = bn
		}
		ln := strings.ToLower(e.name)
		bn[ln] = append(bn[ln], e)
	}
}

var parentLabel = map[kind]string{kSubnet: "VNet", kPeering: "VNet", kRule: "NSG", kDefaultRule: "NSG", kRoute: "route table"}

// ensure makes sure a resource known only from a reference exists, and returns it.
func (im *importer) ensure(k kind, key, name, rg, sub, file string) *entry {
	m := im.entries[k]
	if m == nil {
		m = map[string]*entry{}
		im.entries[k] = m
	}
	if e, ok := m[key]; ok {
		return e
	}
	e := &entry{kind: k, key: key, name: name, rg: rg, sub: sub, file: file, r: &resource{}, synthetic: true}
	m[key] = e
	return e
}

// lookup finds the resource a reference points to: by ID, or by name among resources that were
// exported without an ID.
func (im *importer) lookup(k kind, refID string) *entry {
	if refID == "" {
		return nil
	}
	if e, ok := im.entries[k][idKey(refID)]; ok {
		return e
	}
	if id, ok := parseID(refID); ok {
		if c := im.byName[k][strings.ToLower(id.last())]; len(c) == 1 && (c[0].rg == "" || strings.EqualFold(c[0].rg, id.rg)) {
			return c[0]
		}
	}
	return nil
}

// refName is the name an unresolved reference points to, for messages.
func refName(refID string) string {
	if id, ok := parseID(refID); ok {
		if id.rg != "" {
			return fmt.Sprintf("%q (%s)", id.last(), id.rg)
		}
		return fmt.Sprintf("%q", id.last())
	}
	return fmt.Sprintf("%q", refID)
}

// sorted returns the entries of a kind in key order.
func (im *importer) sorted(k kind) []*entry {
	m := im.entries[k]
	out := make([]*entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// build converts every registered resource. Order matters: route tables and NSGs before the
// subnets that use them, VNets before the NICs that sit in them.
func (im *importer) build() {
	// Back-references: an NSG lists its subnets and NICs, a route table its subnets. They are used
	// when the subnet or NIC itself does not say.
	for _, e := range im.sorted(kNSG) {
		for _, s := range e.r.Subnets {
			if k := idKey(s.ID); k != "" {
				if _, ok := im.nsgOfSubnet[k]; !ok {
					im.nsgOfSubnet[k] = e.key
				}
			}
		}
		for _, n := range e.r.NetworkInterfaces {
			if k := idKey(n.ID); k != "" {
				if _, ok := im.nsgOfNIC[k]; !ok {
					im.nsgOfNIC[k] = e.key
				}
			}
		}
	}
	for _, e := range im.sorted(kRouteTable) {
		for _, s := range e.r.Subnets {
			if k := idKey(s.ID); k != "" {
				if _, ok := im.rtOfSubnet[k]; !ok {
					im.rtOfSubnet[k] = e.key
				}
			}
		}
	}
	for _, e := range im.sorted(kASG) {
		im.asgs[e.key] = &outASG{e: e}
	}
	for _, e := range im.sorted(kNSG) {
		im.nsgs[e.key] = im.buildNSG(e)
	}
	for _, e := range im.sorted(kVNet) {
		if v := im.buildVNet(e); v != nil {
			im.vnets[e.key] = v
		}
	}
	im.linkPeerings()
	im.buildVMs()
	im.collectTags()
}

// lazy is a message prefix built only when a warning needs it.
type lazy func() string

func (l lazy) String() string { return l() }

// ---- NSGs and rules ----

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
	for _, r := range rules {
		pk := fmt.Sprintf("%s/%d", r.direction, r.priority)
		if other, ok := prios[pk]; ok {
			im.warnf("%s, rule %q: has the same priority (%d) and direction as rule %q; rule skipped", where, r.name, r.priority, other)
			continue
		}
		if len(n.rules) == 1000 {
			im.warnf("%s, rule %q: beyond the 1000 rules an NSG can hold; rule skipped", where, r.name)
			continue
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
	if utf8.RuneCountInString(r.description) > 140 {
		rs := []rune(r.description)
		r.description = string(rs[:140])
		notes = append(notes, "its description is longer than 140 characters; cut to 140")
	}
	for _, n := range notes {
		im.warnf("%s: %s", desc, n)
	}
	return r
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
	case len(refs) > 10:
		return fmt.Sprintf("it has %d %s application security groups; Azure allows 10", len(refs), which), nil
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

func (im *importer) collectTags() {
	for _, n := range im.nsgs {
		for _, r := range n.rules {
			for _, t := range r.tags {
				im.usedTags[t] = im.tags[t]
			}
		}
	}
	keys := make([]string, 0, len(im.usedTags))
	for k := range im.usedTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if te := im.usedTags[k]; te.v6 > 0 {
			im.warnf("%s: service tag %q: %s skipped (ipflow evaluates IPv4 only)", te.file, te.name, countOf(te.v6, "IPv6 prefix", "IPv6 prefixes"))
		}
	}
}

// ---- VNets, subnets, peerings, route tables ----

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
			if peer != v && !containsVNet(v.peers, peer) {
				v.peers = append(v.peers, peer)
			}
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

// ---- VMs, NICs, IP configurations ----

func vmPower(r *resource) string {
	if r.PowerState != "" {
		return r.PowerState
	}
	var st []statusRaw
	if r.InstanceView != nil {
		st = r.InstanceView.Statuses
	}
	if st == nil {
		st = r.Statuses
	}
	for _, s := range st {
		if strings.HasPrefix(strings.ToLower(s.Code), "powerstate/") {
			return orStr(s.DisplayStatus, s.Code)
		}
	}
	return ""
}

func (im *importer) buildVMs() {
	claimed := map[string]*outVM{} // NIC key -> VM
	nicOrder := map[*outVM][]*entry{}
	nicPrimary := map[string]flexBool{}
	vmByKey := map[string]*outVM{}
	var vms []*outVM
	for _, e := range im.sorted(kVM) {
		vm := &outVM{e: e}
		ps := vmPower(e.r)
		switch p, ok := normPowerState(ps); {
		case ps == "":
			vm.power = "" // reported below if the VM is imported

		case !ok:
			im.warnf("%s: %s: power state %q is not one ipflow knows; imported as running", e.file, e.label(), ps)
			vm.power = "running"
		default:
			vm.power = p
		}
		vms = append(vms, vm)
		vmByKey[e.key] = vm
		if e.r.NetworkProfile == nil {
			continue
		}
		for _, nr := range e.r.NetworkProfile.NetworkInterfaces {
			id := strings.TrimSpace(nr.ID)
			if id == "" {
				continue
			}
			ne := im.lookup(kNIC, id)
			if ne == nil {
				im.warnf("%s: %s: its NIC %s was not exported", e.file, e.label(), refName(id))
				continue
			}
			if other, ok := claimed[ne.key]; ok {
				if other != vm {
					im.warnf("%s: %s: its NIC %q is also listed by VM %q; it stays with %q", e.file, e.label(), ne.name, other.e.name, other.e.name)
				}
				continue
			}
			claimed[ne.key] = vm
			nicOrder[vm] = append(nicOrder[vm], ne)
			nicPrimary[ne.key] = nr.primary()
		}
	}
	// NICs that name their VM but were not listed by it; NICs without a VM.
	for _, ne := range im.sorted(kNIC) {
		if _, ok := claimed[ne.key]; ok {
			continue
		}
		vmID := refID(ne.r.VirtualMachine)
		if vmID != "" {
			if ve := im.lookup(kVM, vmID); ve != nil {
				vm := vmByKey[ve.key]
				claimed[ne.key] = vm
				nicOrder[vm] = append(nicOrder[vm], ne)
				continue
			}
		}
		why := "it is not attached to a VM"
		switch {
		case vmID != "":
			why = fmt.Sprintf("its VM %s was not exported", refName(vmID))
		case refID(ne.r.PrivateEndpoint) != "":
			why = fmt.Sprintf("it belongs to private endpoint %s, not to a VM", refName(refID(ne.r.PrivateEndpoint)))
		}
		var asgs []string
		for _, c := range ne.r.IPConfigurations {
			for _, a := range c.ApplicationSecurityGroups {
				if a.ID != "" {
					if id, ok := parseID(a.ID); ok && !containsStr(asgs, id.last()) {
						asgs = append(asgs, id.last())
					}
				}
			}
		}
		extra := ""
		if len(asgs) > 0 {
			extra = fmt.Sprintf(" (its IP addresses are missing from ASG %s)", quoteList(asgs))
		}
		im.warnf("%s: %s: %s; skipped%s", ne.file, ne.label(), why, extra)
	}
	for _, vm := range vms {
		for _, ne := range nicOrder[vm] {
			if n := im.buildNIC(ne); n != nil {
				if p, ok := nicPrimary[ne.key]; ok && p.Set {
					n.primary = p.V
				} else {
					n.primary = ne.r.Primary.Set && ne.r.Primary.V
				}
				vm.nics = append(vm.nics, n)
			}
		}
		if len(vm.nics) == 0 {
			im.warnf("%s: %s: none of its NICs could be imported; VM skipped", vm.e.file, vm.e.label())
			continue
		}
		// Exactly one primary NIC, listed first.
		pi := -1
		for i, n := range vm.nics {
			if n.primary && pi < 0 {
				pi = i
			}
			n.primary = false
		}
		if pi < 0 {
			pi = 0
		}
		p := vm.nics[pi]
		p.primary = true
		copy(vm.nics[1:pi+1], vm.nics[:pi])
		vm.nics[0] = p
		if vm.power == "" {
			vm.power = "running"
			im.noPower[vm.e.file] = append(im.noPower[vm.e.file], vm.e.name)
		}
		im.vms = append(im.vms, vm)
	}
	files := make([]string, 0, len(im.noPower))
	for f := range im.noPower {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		names := im.noPower[f]
		shown := names
		more := ""
		if len(shown) > 10 {
			shown, more = shown[:10], fmt.Sprintf(" and %d more", len(names)-10)
		}
		im.warnf("%s: %s no powerState (%s%s); imported as running: export VMs with az vm list -d to get it",
			f, countOf(len(names), "VM has", "VMs have"), quoteList(shown), more)
	}
}

func (im *importer) buildNIC(ne *entry) *outNIC {
	where := lazy(func() string { return ne.file + ": " + ne.label() })
	n := &outNIC{e: ne, fwd: ne.r.EnableIPForwarding.Set && ne.r.EnableIPForwarding.V}
	nsgID := refID(ne.r.NetworkSecurityGroup)
	if nsgID != "" {
		if e := im.lookup(kNSG, nsgID); e != nil {
			n.nsg = im.nsgs[e.key]
		} else {
			im.warnf("%s: its NSG %s was not exported; imported without an NSG, so verdicts miss that NSG's rules", where, refName(nsgID))
		}
	} else if k, ok := im.nsgOfNIC[ne.key]; ok {
		n.nsg = im.nsgs[k]
	}
	names := map[string]bool{}
	for i := range ne.r.IPConfigurations {
		c := &ne.r.IPConfigurations[i]
		name := strings.TrimSpace(c.Name)
		if name == "" {
			if id, ok := parseID(c.ID); ok {
				name = id.last()
			} else {
				name = fmt.Sprintf("ipconfig%d", i+1)
			}
		}
		cw := lazy(func() string { return fmt.Sprintf("%s, IP configuration %q", where, name) })
		if names[strings.ToLower(name)] {
			im.warnf("%s: another IP configuration of the NIC has the same name; skipped", cw)
			continue
		}
		ipText := strings.TrimSpace(c.PrivateIPAddress)
		addr, err := netip.ParseAddr(ipText)
		switch {
		case strings.EqualFold(strings.TrimSpace(c.PrivateIPAddressVersion), "IPv6") || (err == nil && !addr.Is4()):
			im.warnf("%s: IPv6 (%s), which ipflow does not support yet; skipped", cw, orStr(ipText, "no address"))
			continue
		case ipText == "":
			im.warnf("%s: it has no private IP address; skipped", cw)
			continue
		case err != nil || addr.Zone() != "":
			im.warnf("%s: private IP %q is not an IPv4 address; skipped", cw, ipText)
			continue
		}
		subID := refID(c.Subnet)
		sub := im.subnets[idKey(subID)]
		if sub == nil {
			vnetKey := parentKey(subID)
			switch {
			case subID == "":
				im.warnf("%s: it names no subnet; skipped", cw)
			case im.entries[kVNet][vnetKey] == nil || im.entries[kVNet][vnetKey].synthetic:
				im.warnf("%s: its VNet %s was not exported; skipped", cw, refName(parentRef(subID)))
			case im.vnets[vnetKey] == nil:
				im.warnf("%s: its VNet %s was skipped; skipped too", cw, refName(parentRef(subID)))
			default:
				im.warnf("%s: its subnet %s is not in the exported VNet or was skipped; skipped", cw, refName(subID))
			}
			continue
		}
		if !sub.prefix.Contains(addr) {
			im.warnf("%s: private IP %s is outside its subnet %q (%s); skipped", cw, addr, sub.name, sub.prefix)
			continue
		}
		if other, ok := sub.vnet.ips[addr]; ok {
			im.warnf("%s: private IP %s is also used by %s in the same VNet; skipped", cw, addr, other)
			continue
		}
		ipc := &outIPC{name: name, ip: addr, subnet: sub, primary: c.Primary.Set && c.Primary.V}
		seen := map[*outASG]bool{}
		for _, a := range c.ApplicationSecurityGroups {
			aid := strings.TrimSpace(a.ID)
			if aid == "" {
				continue
			}
			asg := im.asgRef(aid)
			if asg == nil {
				im.warnf("%s: application security group id %q is not an Azure resource id; membership skipped", cw, aid)
				continue
			}
			if asg.vnet != nil && asg.vnet != sub.vnet {
				im.warnf("%s: ASG %q already has members in another VNet (Azure keeps an ASG's members in one VNet); membership skipped", cw, asg.e.name)
				continue
			}
			if !seen[asg] {
				seen[asg] = true
				asg.vnet = sub.vnet
				ipc.asgs = append(ipc.asgs, asg)
			}
		}
		names[strings.ToLower(name)] = true
		sub.vnet.ips[addr] = fmt.Sprintf("NIC %q", ne.name)
		n.ipcs = append(n.ipcs, ipc)
	}
	if len(n.ipcs) == 0 {
		im.warnf("%s: none of its IP configurations could be imported; NIC skipped", where)
		return nil
	}
	pi := 0
	for i, c := range n.ipcs {
		if c.primary {
			pi = i
			break
		}
	}
	// All IP configurations of a NIC are in one VNet (as Azure requires): keep the primary's.
	home := n.ipcs[pi]
	kept := n.ipcs[:0]
	for _, c := range n.ipcs {
		if c.subnet.vnet != home.subnet.vnet {
			im.warnf("%s, IP configuration %q: its subnet is in VNet %q, but the NIC's primary IP configuration is in VNet %q; skipped", where, c.name, c.subnet.vnet.e.name, home.subnet.vnet.e.name)
			delete(c.subnet.vnet.ips, c.ip)
			continue
		}
		kept = append(kept, c)
	}
	n.ipcs = kept
	for i, c := range n.ipcs {
		if c == home {
			pi = i
		}
	}
	for i, c := range n.ipcs {
		c.primary = i == pi
	}
	return n
}
