package model

import (
	"fmt"
	"net/netip"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Known keys of every table of the fixture format (docs/fixture-format.md).
var (
	keysTop       = []string{"environment", "service_tags", "vnet", "nsg", "asg", "vm", "admin_rule"}
	keysEnv       = []string{"name", "description"}
	keysVNet      = []string{"name", "address_space", "peerings", "onprem_prefixes", "subnet"}
	keysSubnet    = []string{"name", "prefix", "nsg", "routes"}
	keysNSG       = []string{"name", "rule"}
	keysRule      = []string{"name", "priority", "direction", "access", "protocol", "source", "source_asgs", "source_ports", "destination", "destination_asgs", "destination_ports", "description"}
	keysAdminRule = []string{"name", "vnets", "priority", "direction", "access", "protocol", "source", "source_ports", "destination", "destination_ports", "description"}
	keysASG       = []string{"name"}
	keysVM        = []string{"name", "power_state", "nic"}
	keysNIC       = []string{"name", "nsg", "primary", "ip_forwarding", "private_ip", "subnet", "asgs", "ip_config"}
	keysIPConfig  = []string{"name", "private_ip", "subnet", "asgs", "primary"}

	hintsTop = map[string]string{
		"rule":        "rules belong to an NSG: write [[nsg.rule]] after its [[nsg]]",
		"subnet":      "subnets belong to a VNet: write [[vnet.subnet]] after its [[vnet]]",
		"nic":         "NICs belong to a VM: write [[vm.nic]] after its [[vm]]",
		"ip_config":   "IP configurations belong to a NIC: write [[vm.nic.ip_config]] after its [[vm.nic]]",
		"name":        "the environment's name belongs in [environment]",
		"description": "the environment's description belongs in [environment]",
	}
	hintsAdminRule = map[string]string{
		"source_asgs":      "security admin rules cannot reference application security groups (they take IP prefixes and service tags only)",
		"destination_asgs": "security admin rules cannot reference application security groups (they take IP prefixes and service tags only)",
	}
	hintsRule = map[string]string{
		"vnets": "only admin rules ([[admin_rule]]) have vnets; an NSG rule applies where its NSG is attached",
	}
)

// ruleNameRE is Azure's rule name rule: up to 80 characters, word characters, '.', '-' and '_',
// starting with a word character and ending with a word character.
var ruleNameRE = regexp.MustCompile(`^\w(?:[\w.-]{0,78}\w)?$`)

// tagNameRE is what ipflow accepts as a declared service tag name.
var tagNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)

// ValidRuleName reports whether s is a valid security rule name in Azure.
func ValidRuleName(s string) bool { return ruleNameRE.MatchString(s) }

// ValidTagName reports whether s has the form of a service tag name.
func ValidTagName(s string) bool { return tagNameRE.MatchString(s) }

const (
	maxRulesPerNSG  = 1000
	maxASGsPerSide  = 10
	maxDescription  = 140
	maxSuggestCalls = 200 // bounds the cost of "did you mean" on pathological fixtures
)

// rulesPerWorker is how many NSG rules make reading them in another goroutine worth it.
var rulesPerWorker = 2000

// registry holds the resources of one kind by name; names are unique case-insensitively (as
// Azure resource names are) and references must match exactly.
type registry[T any] struct {
	kind   string
	byName map[string]T
	fold   map[string]namedAt
	names  []string
}

type namedAt struct {
	name string
	pos  Pos
}

func newRegistry[T any](kind string) *registry[T] {
	return &registry[T]{kind: kind, byName: map[string]T{}, fold: map[string]namedAt{}}
}

// define registers name, or reports it defined twice (naming both places) and returns false.
func (r *registry[T]) define(l *loader, name string, t *tab, v T) bool {
	pos := t.hpos()
	k := strings.ToLower(name)
	if prev, ok := r.fold[k]; ok {
		msg := "defined twice; first defined at " + prev.pos.String()
		if prev.name != name {
			msg += fmt.Sprintf(" as %q (names are case-insensitive in Azure)", prev.name)
		}
		l.errAt(pos, t.resource(), msg)
		if _, ok := r.byName[name]; !ok {
			// Refer to the first definition, so that references do not fail as well.
			r.byName[name] = r.byName[prev.name]
		}
		return false
	}
	r.fold[k] = namedAt{name, pos}
	r.byName[name] = v
	r.names = append(r.names, name)
	return true
}

// noSuch explains an unknown reference, suggesting a close name.
func (l *loader) noSuch(kind, name string, candidates []string) string {
	msg := fmt.Sprintf("no %s named %q", kind, name)
	if len(candidates) == 0 {
		return msg + fmt.Sprintf(" (the fixtures define no %s)", kind)
	}
	if s := l.suggest(name, candidates); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	if len(candidates) <= 8 {
		qs := make([]string, len(candidates))
		for i, c := range candidates {
			qs[i] = strconv.Quote(c)
		}
		return msg + "; defined: " + strings.Join(qs, ", ")
	}
	return msg
}

func (l *loader) suggest(name string, candidates []string) string {
	if len(name) > 200 || l.suggestCalls.Add(1) > maxSuggestCalls {
		return ""
	}
	return Suggest(name, candidates)
}

// loader holds the state of one Load.
type loader struct {
	files   []*srcFile
	fileIdx map[string]int
	errs    []Issue
	warns   []Issue
	env     *Environment

	suggestCalls *atomic.Int32 // shared with shadow loaders

	envNamePos, envDescPos Pos
	tags                   map[string]string // lower-case name -> canonical, built-ins included
	tagPos                 map[string]Pos
	tagNames               []string

	vnets      *registry[*VNet]
	nsgs       *registry[*NSG]
	asgs       *registry[*ASG]
	vms        *registry[*VM]
	nics       *registry[*NIC]
	adminRules *registry[*AdminRule]

	subnetPos    map[*Subnet]at // where each valid subnet prefix is written
	peerRefs     []peerRef
	nsgAttached  map[*NSG]bool
	asgRefs      []asgRef
	asgHome      map[*ASG]asgMember // the first member of each ASG, which fixes its VNet
	ipOwner      map[vnetIP]ipUse
	ipcPos       map[*IPConfig]Pos // ip_config table headers
	ipcSubnetPos map[*IPConfig]at
	subnetNames  map[*VNet]map[string]*Subnet
	adminPrio    []adminPrio
}

type peerRef struct {
	from *VNet
	name string
	pos  Pos
	res  string
}

type asgRef struct {
	asg *ASG
	at  at // the side's _asgs key
}

// asgMember is the first member of an ASG, which fixes its VNet.
type asgMember struct {
	cfg *IPConfig
	at  at
}

type vnetIP struct {
	vnet *VNet
	ip   netip.Addr
}

// ipUse is the IP configuration that holds an address.
type ipUse struct {
	cfg *IPConfig
	at  at
}

// at is a key of a table; its position and resource path are looked up only when a message
// needs them (looking a key's line up scans the table).
type at struct {
	t   *tab
	key string
}

func (a at) pos() Pos { return a.t.pos(a.key) }

// ipcRes is the resource path of IP configuration c read from table t (an ip_config table, or a
// NIC's shorthand).
func ipcRes(t *tab, c *IPConfig) string {
	if t.kind == "ip_config" {
		return t.resource()
	}
	return resName(t.resource(), "ip_config", c.Name)
}

func newLoader() *loader {
	l := &loader{
		fileIdx:      map[string]int{},
		suggestCalls: new(atomic.Int32),
		env:          &Environment{ServiceTags: map[string][]netip.Prefix{}},
		tags:         map[string]string{},
		tagPos:       map[string]Pos{},
		vnets:        newRegistry[*VNet]("vnet"),
		nsgs:         newRegistry[*NSG]("nsg"),
		asgs:         newRegistry[*ASG]("asg"),
		vms:          newRegistry[*VM]("vm"),
		nics:         newRegistry[*NIC]("nic"),
		adminRules:   newRegistry[*AdminRule]("admin_rule"),
		subnetPos:    map[*Subnet]at{},
		nsgAttached:  map[*NSG]bool{},
		asgHome:      map[*ASG]asgMember{},
		ipOwner:      map[vnetIP]ipUse{},
		ipcPos:       map[*IPConfig]Pos{},
		ipcSubnetPos: map[*IPConfig]at{},
		subnetNames:  map[*VNet]map[string]*Subnet{},
	}
	for _, t := range []string{TagVirtualNetwork, TagInternet, TagAzureLoadBalancer} {
		l.tags[strings.ToLower(t)] = t
		l.tagNames = append(l.tagNames, t)
	}
	return l
}

func (l *loader) resolveTag(name string) (string, bool) {
	t, ok := l.tags[strings.ToLower(name)]
	return t, ok
}

// roots returns a reader over the top-level table of every decoded file.
func (l *loader) roots() []*tab {
	out := make([]*tab, 0, len(l.files))
	for _, f := range l.files {
		if f.root == nil {
			continue
		}
		out = append(out, &tab{l: l, f: f, m: f.root, node: f.lines})
	}
	return out
}

// build validates and links the decoded files into l.env.
func (l *loader) build() {
	roots := l.roots()
	for _, t := range roots {
		t.unknown(keysTop, hintsTop)
		l.readEnvironment(t)
	}
	for _, t := range roots {
		l.readServiceTags(t)
	}
	// ASGs before NSGs (rules refer to ASGs), NSGs before VNets (subnets refer to NSGs).
	for _, t := range roots {
		for _, a := range t.tables("asg", "asg", "asg") {
			l.readASG(a)
		}
	}
	l.readNSGs(roots)
	for _, t := range roots {
		for _, v := range t.tables("vnet", "vnet", "vnet") {
			l.readVNet(v)
		}
	}
	l.linkPeerings()
	for _, t := range roots {
		for _, v := range t.tables("vm", "vm", "vm") {
			l.readVM(v)
		}
	}
	for _, t := range roots {
		for _, a := range t.tables("admin_rule", "admin_rule", "admin_rule") {
			l.readAdminRule(a)
		}
	}
	l.checkAdminPriorities()
	l.finalWarnings()
	for _, f := range l.files {
		f.lines, f.root, f.text = nil, nil, ""
	}
}

// resName is a resource path: parent, then kind "name".
func resName(parent, kind, name string) string {
	if parent != "" {
		parent += " "
	}
	return parent + kind + " " + strconv.Quote(name)
}

// readName reads a resource's required, non-empty name and, when it has one, names t.
func (l *loader) readName(t *tab) (string, bool) {
	name, ok := t.str("name", "a non-empty string")
	if ok && strings.TrimSpace(name) == "" {
		t.errf("name", "name: must not be empty")
		ok = false
	}
	if ok {
		t.setName(name)
	}
	return name, ok
}

func (l *loader) readEnvironment(root *tab) {
	t := root.table("environment", "environment")
	if t == nil {
		return
	}
	t.unknown(keysEnv, nil)
	set := func(key string, dst *string, at *Pos) {
		s, ok := t.str(key, optional)
		if !ok {
			return
		}
		if at.File != "" && *dst != s {
			t.errf(key, "%s %q conflicts with %s %q set at %s", key, s, key, *dst, at)
			return
		}
		*dst, *at = s, t.pos(key)
	}
	set("name", &l.env.Name, &l.envNamePos)
	set("description", &l.env.Description, &l.envDescPos)
}

func (l *loader) readServiceTags(root *tab) {
	t := root.table("service_tags", "service_tags")
	if t == nil {
		return
	}
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := t.node.keyLine(keys[i]), t.node.keyLine(keys[j])
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	for _, name := range keys {
		pos := t.pos(name)
		lower := strings.ToLower(name)
		switch {
		case !tagNameRE.MatchString(name) || lower == "any" || lower == "all":
			t.errf(name, "service tag %q: invalid name; a tag name starts with a letter and has only letters, digits, '.', '-' and '_' (like Storage.WestEurope)", name)
			continue
		}
		if canon, ok := l.tags[lower]; ok {
			if prev, declared := l.tagPos[lower]; declared {
				msg := fmt.Sprintf("service tag %q is defined twice; first defined at %s", name, prev)
				if canon != name {
					msg += fmt.Sprintf(" as %q (tags are case-insensitive)", canon)
				}
				t.errf(name, "%s", msg)
			} else {
				t.errf(name, "service tag %q is built in (%s); it cannot be redefined", name, canon)
			}
			continue
		}
		items, _, _, ok := t.strOrStrs(name)
		if !ok {
			continue
		}
		prefixes := make([]netip.Prefix, 0, len(items))
		bad := false
		for _, s := range items {
			p, err := ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				t.errf(name, "service tag %q: %v", name, err)
				bad = true
				continue
			}
			prefixes = append(prefixes, p)
		}
		l.tags[lower] = name
		l.tagPos[lower] = pos
		l.tagNames = append(l.tagNames, name)
		if bad {
			continue
		}
		if len(prefixes) == 0 {
			t.warnf(name, "service tag %q has no prefixes; rules that use it match no address", name)
		}
		l.env.ServiceTags[name] = prefixes
	}
}

// cidrs reads an array of IPv4 CIDRs.
func (l *loader) cidrs(t *tab, key string) ([]netip.Prefix, bool) {
	items, _, ok := t.strs(key)
	if !ok {
		return nil, false
	}
	out := make([]netip.Prefix, 0, len(items))
	for _, s := range items {
		p, err := ParseCIDR(strings.TrimSpace(s))
		if err != nil {
			t.errf(key, "%s %v", key, err)
			ok = false
			continue
		}
		out = append(out, p)
	}
	return out, ok
}

func (l *loader) readVNet(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysVNet, nil)
	if named && strings.Contains(name, "/") {
		t.errf("name", "name %q: a VNet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET)", name)
		named = false
	}
	v := &VNet{Name: name, Pos: t.hpos()}
	if named {
		if l.vnets.define(l, name, t, v) {
			l.env.VNets = append(l.env.VNets, v)
		} else {
			named = false
		}
	}
	if !t.has("address_space") {
		t.missing("address_space", "an array of IPv4 CIDRs")
	} else if space, ok := l.cidrs(t, "address_space"); ok {
		if len(space) == 0 {
			t.errf("address_space", "address_space: needs at least one IPv4 CIDR (like 10.0.0.0/16)")
		}
		if a, b, found := firstOverlap(space); found {
			t.errf("address_space", "address_space: %s overlaps %s", space[b], space[a])
		}
		v.AddressSpace = space
	}
	v.OnPremPrefixes, _ = l.cidrs(t, "onprem_prefixes")
	if peers, _, _ := t.strs("peerings"); named {
		for _, p := range peers {
			l.peerRefs = append(l.peerRefs, peerRef{from: v, name: p, pos: t.pos("peerings"), res: t.resource()})
		}
	}
	for _, st := range t.tables("subnet", "vnet.subnet", "subnet") {
		if s := l.readSubnet(st, v); s != nil {
			v.Subnets = append(v.Subnets, s)
		}
	}
	l.checkSubnetOverlap(v)
}

func (l *loader) readSubnet(t *tab, v *VNet) *Subnet {
	name, named := l.readName(t)
	t.unknown(keysSubnet, nil)
	if named && strings.Contains(name, "/") {
		t.errf("name", "name %q: a subnet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET)", name)
		named = false
	}
	s := &Subnet{Name: name, VNet: v, Pos: t.hpos()}
	if named {
		byName := l.subnetNames[v]
		if byName == nil {
			byName = map[string]*Subnet{}
			l.subnetNames[v] = byName
		}
		k := strings.ToLower(name)
		if o, dup := byName[k]; dup {
			msg := "defined twice in vnet " + strconv.Quote(v.Name) + "; first defined at " + o.Pos.String()
			if o.Name != name {
				msg += fmt.Sprintf(" as %q (names are case-insensitive in Azure)", o.Name)
			}
			l.errAt(t.hpos(), t.resource(), msg)
			named = false
		} else {
			byName[k] = s
		}
	}
	if ps, ok := t.str("prefix", "an IPv4 CIDR"); ok {
		p, err := ParseCIDR(strings.TrimSpace(ps))
		if err != nil {
			t.errf("prefix", "prefix %v", err)
		} else {
			s.Prefix = p
			l.subnetPos[s] = at{t, "prefix"}
			if len(v.AddressSpace) > 0 && !insideAny(p, v.AddressSpace) {
				t.errf("prefix", "prefix %s is outside the address space of vnet %q (%s)", p, v.Name, joinPrefixes(v.AddressSpace))
			}
		}
	}
	s.NSG = l.nsgRef(t)
	s.Routes, _ = l.cidrs(t, "routes")
	if !named {
		return nil
	}
	return s
}

// nsgRef resolves the optional nsg key of a subnet or NIC.
func (l *loader) nsgRef(t *tab) *NSG {
	name, ok := t.str("nsg", optional)
	if !ok {
		return nil
	}
	g, found := l.nsgs.byName[name]
	if !found {
		t.errf("nsg", "nsg: %s", l.noSuch("nsg", name, l.nsgs.names))
		return nil
	}
	l.nsgAttached[g] = true
	return g
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// span is the first and last address of an IPv4 prefix, as integers.
func span(p netip.Prefix) (lo, hi uint32) {
	lo = u32(p.Addr())
	if p.Bits() == 0 {
		return lo, ^uint32(0)
	}
	return lo, lo | (^uint32(0) >> uint(p.Bits()))
}

func insideAny(p netip.Prefix, space []netip.Prefix) bool {
	for _, s := range space {
		if s.Bits() <= p.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func joinPrefixes(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// firstOverlap finds two overlapping prefixes (a before b in the list) in O(n log n).
func firstOverlap(ps []netip.Prefix) (a, b int, found bool) {
	if len(ps) < 2 {
		return 0, 0, false
	}
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool {
		li, _ := span(ps[idx[i]])
		lj, _ := span(ps[idx[j]])
		if li != lj {
			return li < lj
		}
		return idx[i] < idx[j]
	})
	best := idx[0]
	_, bestHi := span(ps[best])
	for _, k := range idx[1:] {
		lo, hi := span(ps[k])
		if lo <= bestHi {
			return min(best, k), max(best, k), true
		}
		if hi > bestHi {
			best, bestHi = k, hi
		}
	}
	return 0, 0, false
}

// checkSubnetOverlap reports every subnet of v that overlaps an earlier one (sorting, not
// comparing all pairs).
func (l *loader) checkSubnetOverlap(v *VNet) {
	var subs []*Subnet
	for _, s := range v.Subnets {
		if _, ok := l.subnetPos[s]; ok {
			subs = append(subs, s)
		}
	}
	if len(subs) < 2 {
		return
	}
	order := make(map[*Subnet]int, len(subs))
	for i, s := range subs {
		order[s] = i
	}
	sort.SliceStable(subs, func(i, j int) bool {
		li, _ := span(subs[i].Prefix)
		lj, _ := span(subs[j].Prefix)
		return li < lj
	})
	cover := subs[0]
	_, coverHi := span(cover.Prefix)
	for _, s := range subs[1:] {
		lo, hi := span(s.Prefix)
		if lo <= coverHi {
			first, second := cover, s
			if order[second] < order[first] {
				first, second = second, first
			}
			l.errAt(l.subnetPos[second].pos(), resName(resName("", "vnet", v.Name), "subnet", second.Name),
				fmt.Sprintf("prefix %s overlaps subnet %q (%s, %s)", second.Prefix, first.Name, first.Prefix, first.Pos))
		}
		if hi > coverHi {
			cover, coverHi = s, hi
		}
	}
}

func (l *loader) linkPeerings() {
	seen := map[[2]*VNet]bool{}
	link := func(a, b *VNet) {
		if !seen[[2]*VNet{a, b}] {
			seen[[2]*VNet{a, b}] = true
			a.Peers = append(a.Peers, b)
		}
	}
	for _, r := range l.peerRefs {
		to, ok := l.vnets.byName[r.name]
		switch {
		case !ok:
			l.errAt(r.pos, r.res, "peerings: "+l.noSuch("vnet", r.name, l.vnets.names))
		case to == r.from:
			l.errAt(r.pos, r.res, fmt.Sprintf("peerings: vnet %q cannot peer with itself", r.name))
		default:
			link(r.from, to)
			link(to, r.from)
		}
	}
}

func (l *loader) readASG(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysASG, nil)
	if !named {
		return
	}
	a := &ASG{Name: name, Pos: t.hpos()}
	if l.asgs.define(l, name, t, a) {
		l.env.ASGs = append(l.env.ASGs, a)
	}
}

type prioKey struct {
	dir  Direction
	prio int
}

// readNSGs reads every NSG: first their names, then their rules, in parallel for large
// fixtures. Each worker reads a contiguous run of NSGs into a shadow loader (sharing every map,
// which rules only read) with its own issue lists, merged in order afterwards, so that the result
// is the same as reading sequentially.
func (l *loader) readNSGs(roots []*tab) {
	var tabs []*tab
	for _, t := range roots {
		tabs = append(tabs, t.tables("nsg", "nsg", "nsg")...)
	}
	nsgs := make([]*NSG, len(tabs))
	rules := 0
	for i, t := range tabs {
		name, named := l.readName(t)
		t.unknown(keysNSG, nil)
		g := &NSG{Name: name, Pos: t.hpos()}
		if named && l.nsgs.define(l, name, t, g) {
			l.env.NSGs = append(l.env.NSGs, g)
		}
		nsgs[i] = g
		if v, ok := t.m["rule"]; ok {
			switch x := v.(type) {
			case []map[string]any:
				rules += len(x)
			case []any:
				rules += len(x)
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(tabs), rules/rulesPerWorker)
	if workers < 2 {
		for i, t := range tabs {
			l.readRules(t, nsgs[i])
		}
		return
	}
	shadows := make([]*loader, workers)
	var wg sync.WaitGroup
	for w := range workers {
		s := *l
		s.errs, s.warns, s.asgRefs = nil, nil, nil
		shadows[w] = &s
		lo, hi := w*len(tabs)/workers, (w+1)*len(tabs)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					if !recoverPanics {
						panic(r)
					}
					s.errAt(Pos{}, "", fmt.Sprintf("internal error while reading NSG rules (please report): %v", r))
				}
			}()
			for i := lo; i < hi; i++ {
				tabs[i].l = &s
				l.readRulesWith(&s, tabs[i], nsgs[i])
			}
		}()
	}
	wg.Wait()
	for _, s := range shadows {
		l.errs = append(l.errs, s.errs...)
		l.warns = append(l.warns, s.warns...)
		l.asgRefs = append(l.asgRefs, s.asgRefs...)
	}
}

func (l *loader) readRules(t *tab, g *NSG) { l.readRulesWith(l, t, g) }

// readRulesWith reads the rules of NSG g (table t) using loader s (l or a shadow of it).
func (l *loader) readRulesWith(s *loader, t *tab, g *NSG) {
	l = s
	name := g.Name
	rules := t.tables("rule", "nsg.rule", "rule")
	if len(rules) > maxRulesPerNSG {
		t.errf("rule", "%d rules; Azure allows at most %d custom rules per NSG", len(rules), maxRulesPerNSG)
	}
	g.Rules = make([]*Rule, 0, len(rules))
	names := make(map[string]*Rule, len(rules))
	prios := make(map[prioKey]*Rule, len(rules))
	for _, rt := range rules {
		rname, rnamed := l.readName(rt)
		rt.unknown(keysRule, hintsRule)
		r, prioOK := l.readRule(rt, rname, rnamed, false)
		if rnamed {
			k := strings.ToLower(rname)
			if prev, dup := names[k]; dup {
				msg := "defined twice in nsg " + strconv.Quote(name) + "; first defined at " + prev.Pos.String()
				if prev.Name != rname {
					msg += fmt.Sprintf(" as %q (names are case-insensitive in Azure)", prev.Name)
				}
				l.errAt(rt.hpos(), rt.resource(), msg)
				rnamed = false
			} else {
				names[k] = r
			}
		}
		if prioOK && rnamed {
			k := prioKey{r.Direction, r.Priority}
			if prev, dup := prios[k]; dup {
				l.errAt(rt.pos("priority"), t.resource(), fmt.Sprintf(
					"rule %q conflicts with rule %q (%s): Rules cannot have the same Priority and Direction (priority %d, %s)",
					rname, prev.Name, prev.Pos, r.Priority, r.Direction))
			} else {
				prios[k] = r
			}
		}
		if rnamed {
			g.Rules = append(g.Rules, r)
		}
	}
}

// readRule reads the fields an NSG rule and an admin rule share. ok says whether priority and
// direction are valid (so that conflicts can be checked).
func (l *loader) readRule(t *tab, name string, named, admin bool) (r *Rule, ok bool) {
	r = &Rule{Name: name, Kind: CustomRule, Pos: t.hpos()}
	if admin {
		r.Kind = AdminRuleKind
	}
	if named && !ruleNameRE.MatchString(name) {
		t.errf("name", "name %q: invalid rule name; use up to 80 characters: letters, digits, '_', '.' and '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'", name)
	}
	prioOK, dirOK := false, false
	lo, accessWant := int64(100), "Allow or Deny"
	if admin {
		lo, accessWant = 1, "Allow, AlwaysAllow or Deny"
	}
	if p, found := t.integer("priority", fmt.Sprintf("an integer %d..4096", lo)); found {
		if p < lo || p > 4096 {
			t.errf("priority", "priority %d: must be between %d and 4096", p, lo)
		} else {
			r.Priority, prioOK = int(p), true
		}
	}
	if s, found := t.str("direction", "Inbound or Outbound"); found {
		d, err := ParseDirection(s)
		if err != nil {
			t.errf("direction", "%v", err)
		} else {
			r.Direction, dirOK = d, true
		}
	}
	if s, found := t.str("access", accessWant); found {
		a, err := ParseAccess(s, admin)
		if err != nil {
			t.errf("access", "%v", err)
		} else {
			r.Access = a
		}
	}
	protoOK := false
	if s, found := t.str("protocol", "Tcp, Udp, Icmp, Esp, Ah or *"); found {
		p, err := ParseProtocol(s)
		if err != nil {
			t.errf("protocol", "%v", err)
		} else {
			r.Protocol, protoOK = p, true
		}
	}
	if d, found := t.str("description", optional); found {
		if n := utf8.RuneCountInString(d); n > maxDescription {
			t.errf("description", "description: %d characters; Azure allows at most %d", n, maxDescription)
		}
		r.Description = d
	}
	r.Source = l.readSide(t, "source", admin)
	r.Destination = l.readSide(t, "destination", admin)
	if protoOK && r.Protocol != AnyProtocol && !r.Protocol.HasPorts() {
		for _, key := range []string{"source_ports", "destination_ports"} {
			if !t.has(key) {
				continue
			}
			side := r.Source
			if key == "destination_ports" {
				side = r.Destination
			}
			if len(side.Ports) == 1 && side.Ports[0] == AllPorts {
				continue
			}
			t.warnf(key, "%s %s: protocol %s has no ports, so Azure ignores them; use * or leave %s out", key, FormatPorts(side.Ports), r.Protocol, key)
		}
	}
	return r, prioOK && dirOK
}

// readSide reads one side of a rule: addresses (key side) or ASGs (side_asgs), and ports.
func (l *loader) readSide(t *tab, side string, admin bool) Side {
	addrKey, asgKey, portKey := side, side+"_asgs", side+"_ports"
	var s Side
	s.Ports = l.readPorts(t, portKey)

	items, list, hasAddr, addrOK := t.strOrStrs(addrKey)
	if hasAddr && addrOK {
		s.Addresses = make([]Address, 0, len(items))
		for _, it := range items {
			a, err := ParseAddress(it, l.resolveTag)
			if err != nil {
				t.errf(addrKey, "%s", l.addressError(addrKey, it, err))
				addrOK = false
				continue
			}
			s.Addresses = append(s.Addresses, a)
		}
		if len(items) > 1 {
			for _, a := range s.Addresses {
				if a.Kind == AnyAddress || (a.Kind == TagAddress && !admin) {
					t.errf(addrKey, "%s: %q must stand alone; a service tag or * cannot be combined with other addresses (Azure accepts tags and * only in the single-value field)", addrKey, a.String())
					addrOK = false
					break
				}
			}
		}
		if len(items) == 0 && list {
			hasAddr = false // an empty array counts as not set, as in Azure
		}
	}

	var asgNames []string
	hasASG, asgOK := false, true
	if !admin {
		asgNames, hasASG, asgOK = t.strs(asgKey)
		if hasASG && len(asgNames) == 0 {
			hasASG = false
		}
		if hasASG && len(asgNames) > maxASGsPerSide {
			t.errf(asgKey, "%s: %d ASGs; Azure allows at most %d per side of a rule", asgKey, len(asgNames), maxASGsPerSide)
		}
		if hasASG {
			s.ASGs = make([]*ASG, 0, len(asgNames))
		}
		for _, n := range asgNames {
			a, found := l.asgs.byName[n]
			if !found {
				t.errf(asgKey, "%s: %s", asgKey, l.noSuch("asg", n, l.asgs.names))
				asgOK = false
				continue
			}
			if slices.Contains(s.ASGs, a) {
				continue
			}
			s.ASGs = append(s.ASGs, a)
			l.asgRefs = append(l.asgRefs, asgRef{asg: a, at: at{t, asgKey}})
		}
	}

	switch {
	case hasAddr && hasASG:
		t.errf(asgKey, "%s and %s are exclusive: set exactly one (Azure: a rule specifies exactly one of address prefixes and application security groups per side)", addrKey, asgKey)
		s.ASGs = nil
	case !hasAddr && !hasASG && addrOK && asgOK:
		if admin {
			t.missing(addrKey, "*, IPv4 addresses or CIDRs, or a service tag")
		} else {
			l.errAt(t.hpos(), t.resource(), fmt.Sprintf("missing %s: set %s (*, IPv4 addresses or CIDRs, or a service tag) or %s (ASG names)", addrKey, addrKey, asgKey))
		}
	}
	return s
}

// addressError words a failed address: the key, then what is wrong, with a close tag suggested.
func (l *loader) addressError(key, item string, err error) string {
	s := strings.TrimSpace(item)
	if s == "" {
		return key + ": empty address; use *, an IPv4 address or CIDR, or a service tag"
	}
	if looksLikeTag(s) && !strings.EqualFold(s, "any") && !strings.EqualFold(s, "all") {
		if sug := l.suggest(s, l.tagNames); sug != "" {
			return fmt.Sprintf("%s %q: unknown service tag; did you mean %q?", key, s, sug)
		}
	}
	return key + " " + err.Error()
}

func looksLikeTag(s string) bool {
	c := s[0]
	return (c < '0' || c > '9') && !strings.ContainsAny(s, ":/")
}

// readPorts reads a port list: a string or an integer, or an array of them. Absent means *.
func (l *loader) readPorts(t *tab, key string) []PortRange {
	v, ok := t.m[key]
	if !ok {
		return []PortRange{AllPorts}
	}
	one := func(e any) (PortRange, bool) {
		switch x := e.(type) {
		case string:
			r, err := ParsePortRange(x)
			if err != nil {
				msg := key + " " + err.Error()
				if strings.Contains(x, ",") {
					msg += fmt.Sprintf("; for several ports write an array, like %s = [\"80\", \"443\"]", key)
				}
				t.errf(key, "%s", msg)
				return PortRange{}, false
			}
			return r, true
		case int64:
			if x < 0 || x > 65535 {
				t.errf(key, "%s %d: port out of range 0..65535", key, x)
				return PortRange{}, false
			}
			return PortRange{uint16(x), uint16(x)}, true
		}
		t.errf(key, "%s: expected a port (\"*\", \"N\", \"N-M\" or an integer), got %s", key, describe(e))
		return PortRange{}, false
	}
	var out []PortRange
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			t.errf(key, "%s: empty; leave %s out or use \"*\" for every port", key, key)
			return []PortRange{AllPorts}
		}
		out = make([]PortRange, 0, len(x))
		for _, e := range x {
			if r, ok := one(e); ok {
				out = append(out, r)
			}
		}
	default:
		if r, ok := one(v); ok {
			out = []PortRange{r}
		}
	}
	if len(out) == 0 {
		return []PortRange{AllPorts}
	}
	return out
}

func (l *loader) readVM(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysVM, nil)
	vm := &VM{Name: name, Pos: t.hpos()}
	if s, ok := t.str("power_state", optional); ok {
		ps, err := ParsePowerState(s)
		if err != nil {
			t.errf("power_state", "%v", err)
		}
		vm.PowerState = ps
	}
	if named && l.vms.define(l, name, t, vm) {
		l.env.VMs = append(l.env.VMs, vm)
	}
	nics := t.tables("nic", "vm.nic", "nic")
	if len(nics) == 0 && (!t.has("nic") || isEmptyArray(t.m["nic"])) {
		l.errAt(t.hpos(), t.resource(), "needs at least one NIC: add [[vm.nic]] after it")
	}
	var primary *NIC
	var primaryPos Pos
	for _, nt := range nics {
		n := l.readNIC(nt, vm)
		if n == nil {
			continue
		}
		if n.Primary {
			if primary != nil {
				nt.errf("primary", "primary: nic %q is already the primary NIC of vm %q (%s); at most one NIC is primary", primary.Name, vm.Name, primaryPos)
				n.Primary = false
			} else {
				primary, primaryPos = n, nt.pos("primary")
			}
		}
		vm.NICs = append(vm.NICs, n)
	}
	if primary == nil && len(vm.NICs) > 0 {
		vm.NICs[0].Primary = true
	}
}

func isEmptyArray(v any) bool {
	switch x := v.(type) {
	case []any:
		return len(x) == 0
	case []map[string]any:
		return len(x) == 0
	}
	return false
}

var shorthandKeys = []string{"private_ip", "subnet", "asgs"}

func (l *loader) readNIC(t *tab, vm *VM) *NIC {
	name, named := l.readName(t)
	if vm.Name == "" {
		named = false
	}
	t.unknown(keysNIC, nil)
	n := &NIC{Name: name, VM: vm, Pos: t.hpos()}
	if named && !l.nics.define(l, name, t, n) {
		named = false
	}
	n.NSG = l.nsgRef(t)
	n.Primary, _ = t.boolean("primary")
	n.IPForwarding, _ = t.boolean("ip_forwarding")

	var short []string
	for _, k := range shorthandKeys {
		if t.has(k) {
			short = append(short, k)
		}
	}
	cfgs := t.tables("ip_config", "vm.nic.ip_config", "ip_config")
	switch {
	case len(short) > 0 && t.has("ip_config"):
		t.errf(short[0], "%s and [[vm.nic.ip_config]] are exclusive: use the shorthand (private_ip, subnet, asgs) for one IP configuration, or ip_config tables, not both", strings.Join(short, ", "))
	case len(short) > 0:
		c := &IPConfig{Name: "ipconfig1", NIC: n, Primary: true}
		if l.readIPConfigFields(t, c) {
			n.IPConfigs = append(n.IPConfigs, c)
		}
	case len(cfgs) == 0:
		if !t.has("ip_config") || isEmptyArray(t.m["ip_config"]) {
			l.errAt(t.hpos(), t.resource(), "needs an IP configuration: set private_ip and subnet, or add [[vm.nic.ip_config]]")
		}
	default:
		var primary *IPConfig
		var primaryPos Pos
		cfgNames := make(map[string]*IPConfig, len(cfgs))
		for i, ct := range cfgs {
			c := &IPConfig{Name: "ipconfig" + strconv.Itoa(i+1), NIC: n}
			if s, ok := ct.str("name", optional); ok {
				if strings.TrimSpace(s) == "" {
					ct.errf("name", "name: must not be empty")
				}
				c.Name = s
			}
			ct.setName(c.Name)
			ct.unknown(keysIPConfig, nil)
			dup := false
			if o, found := cfgNames[strings.ToLower(c.Name)]; found {
				ct.errf("name", "defined twice in nic %q; first defined at %s", n.Name, l.ipcPos[o])
				dup = true
			}
			c.Primary, _ = ct.boolean("primary")
			if !l.readIPConfigFields(ct, c) || dup {
				continue
			}
			l.ipcPos[c] = ct.hpos()
			cfgNames[strings.ToLower(c.Name)] = c
			if c.Primary {
				if primary != nil {
					ct.errf("primary", "primary: ip_config %q is already the primary IP configuration of nic %q (%s); at most one is primary", primary.Name, n.Name, primaryPos)
					c.Primary = false
				} else {
					primary, primaryPos = c, ct.pos("primary")
				}
			}
			n.IPConfigs = append(n.IPConfigs, c)
		}
		if primary == nil && len(n.IPConfigs) > 0 {
			n.IPConfigs[0].Primary = true
		}
	}
	// All IP configurations of a NIC are in one VNet (as in Azure); the engine relies on it.
	var home *IPConfig
	for _, c := range n.IPConfigs {
		if c.Subnet == nil {
			continue
		}
		if home == nil {
			home = c
		} else if c.Subnet.VNet != home.Subnet.VNet {
			l.errAt(l.ipcSubnetPos[c].pos(), resName(t.resource(), "ip_config", c.Name), fmt.Sprintf(
				"subnet %q is in vnet %q, but ip_config %q of this NIC is in vnet %q; all IP configurations of a NIC must be in one VNet",
				c.Subnet.Path(), c.Subnet.VNet.Name, home.Name, home.Subnet.VNet.Name))
		}
	}
	if !named {
		return nil
	}
	return n
}

// readIPConfigFields reads private_ip, subnet and asgs (of an ip_config table or of the NIC
// shorthand) into c and links it. ok is false when c is unusable.
func (l *loader) readIPConfigFields(t *tab, c *IPConfig) bool {
	ok := true
	if s, found := t.str("private_ip", "an IPv4 address"); found {
		ip, err := ParseIP(strings.TrimSpace(s))
		if err != nil {
			t.errf("private_ip", "private_ip %v", err)
			ok = false
		} else {
			c.PrivateIP = ip
		}
	} else {
		ok = false
	}
	if s, found := t.str("subnet", "VNET/SUBNET"); found {
		c.Subnet = l.subnetRef(t, s)
		if c.Subnet == nil {
			ok = false
		}
	} else {
		ok = false
	}
	l.ipcSubnetPos[c] = at{t, "subnet"}
	names, _, _ := t.strs("asgs")
	if ok {
		sub := c.Subnet
		_, prefixOK := l.subnetPos[sub]
		if prefixOK && !sub.Prefix.Contains(c.PrivateIP) {
			t.errf("private_ip", "private_ip %s is outside subnet %q (%s)", c.PrivateIP, sub.Path(), sub.Prefix)
			ok = false
		}
		if prefixOK && ok {
			lo, hi := span(sub.Prefix)
			if ip := u32(c.PrivateIP); ip-lo < 4 || ip == hi {
				t.warnf("private_ip", "private_ip %s: Azure reserves the first four addresses and the last address of subnet %s, so it never assigns this one", c.PrivateIP, sub.Prefix)
			}
		}
		if ok {
			k := vnetIP{sub.VNet, c.PrivateIP}
			if prev, dup := l.ipOwner[k]; dup {
				t.errf("private_ip", "private_ip %s is already used in vnet %q by %s (%s)", c.PrivateIP, sub.VNet.Name, ipcRes(prev.at.t, prev.cfg), prev.at.pos())
			} else {
				l.ipOwner[k] = ipUse{c, at{t, "private_ip"}}
			}
		}
	}
	seen := map[*ASG]bool{}
	for _, name := range names {
		a, found := l.asgs.byName[name]
		if !found {
			t.errf("asgs", "asgs: %s", l.noSuch("asg", name, l.asgs.names))
			continue
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		c.ASGs = append(c.ASGs, a)
		if !ok {
			continue
		}
		a.Members = append(a.Members, c)
		if home, has := l.asgHome[a]; !has {
			l.asgHome[a] = asgMember{c, at{t, "asgs"}}
		} else if hv := home.cfg.Subnet.VNet; hv != c.Subnet.VNet {
			t.errf("asgs", "asgs: asg %q already has members in vnet %q (%s, %s), and this IP configuration is in vnet %q; all members of an ASG must be in one VNet",
				a.Name, hv.Name, ipcRes(home.at.t, home.cfg), home.at.pos(), c.Subnet.VNet.Name)
		}
	}
	return ok
}

// subnetRef resolves a VNET/SUBNET reference, explaining what is wrong and what is close.
func (l *loader) subnetRef(t *tab, ref string) *Subnet {
	vname, sname, slash := strings.Cut(ref, "/")
	if !slash {
		var matches []string
		for _, vn := range l.vnets.names {
			for _, s := range l.vnets.byName[vn].Subnets {
				if s.Name == ref {
					matches = append(matches, s.Path())
				}
			}
		}
		msg := fmt.Sprintf("subnet %q: write VNET/SUBNET", ref)
		if len(matches) == 1 {
			msg += fmt.Sprintf("; did you mean %q?", matches[0])
		}
		t.errf("subnet", "%s", msg)
		return nil
	}
	v, ok := l.vnets.byName[vname]
	if !ok {
		t.errf("subnet", "subnet %q: %s", ref, l.noSuch("vnet", vname, l.vnets.names))
		return nil
	}
	names := make([]string, 0, len(v.Subnets))
	for _, s := range v.Subnets {
		if s.Name == sname {
			return s
		}
		names = append(names, s.Name)
	}
	t.errf("subnet", "subnet %q: vnet %q has %s", ref, vname, l.noSuch("subnet", sname, names))
	return nil
}

func (l *loader) readAdminRule(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysAdminRule, hintsAdminRule)
	r, ok := l.readRule(t, name, named, true)
	a := &AdminRule{Rule: *r}
	if names, present, _ := t.strs("vnets"); present {
		if len(names) == 0 {
			if isEmptyArray(t.m["vnets"]) {
				t.errf("vnets", "vnets: empty; leave vnets out to apply the rule to every VNet")
			}
		} else {
			a.VNets = make([]*VNet, 0, len(names))
		}
		seen := map[*VNet]bool{}
		for _, n := range names {
			v, found := l.vnets.byName[n]
			if !found {
				t.errf("vnets", "vnets: %s", l.noSuch("vnet", n, l.vnets.names))
				continue
			}
			if !seen[v] {
				seen[v] = true
				a.VNets = append(a.VNets, v)
			}
		}
	}
	if named && l.adminRules.define(l, name, t, a) {
		l.env.AdminRules = append(l.env.AdminRules, a)
		if ok {
			l.adminPrio = append(l.adminPrio, adminPrio{a, t.pos("priority"), t})
		}
	}
}

type adminPrio struct {
	rule *AdminRule
	pos  Pos
	t    *tab
}

// checkAdminPriorities: admin rules that apply to a common VNet cannot share a priority and a
// direction (Azure requires unique priorities within a rule collection; ipflow has no
// collections, and rules on disjoint VNets never meet). Linear: one map entry per (direction,
// priority) and per (direction, priority, VNet).
func (l *loader) checkAdminPriorities() {
	type key struct {
		dir  Direction
		prio int
		vnet *VNet // nil: the first rule of this priority and direction, whatever its VNets
	}
	everywhere := map[prioKey]*AdminRule{} // the first rule with no vnets (every VNet)
	first := map[key]*AdminRule{}
	for _, p := range l.adminPrio {
		r := p.rule
		k := prioKey{r.Direction, r.Priority}
		var clash *AdminRule
		var where *VNet
		switch {
		case everywhere[k] != nil:
			clash = everywhere[k]
			if r.VNets != nil {
				where = r.VNets[0]
			}
		case r.VNets == nil:
			clash = first[key{k.dir, k.prio, nil}]
			if clash != nil && clash.VNets != nil {
				where = clash.VNets[0]
			}
		default:
			for _, v := range r.VNets {
				if c := first[key{k.dir, k.prio, v}]; c != nil {
					clash, where = c, v
					break
				}
			}
		}
		if clash != nil {
			scope := "every VNet"
			if where != nil {
				scope = fmt.Sprintf("vnet %q", where.Name)
			}
			l.errAt(p.pos, p.t.resource(), fmt.Sprintf(
				"conflicts with admin_rule %q (%s), which also applies to %s: Rules cannot have the same Priority and Direction (priority %d, %s)",
				clash.Name, clash.Pos, scope, r.Priority, r.Direction))
			continue
		}
		if first[key{k.dir, k.prio, nil}] == nil {
			first[key{k.dir, k.prio, nil}] = r
		}
		if r.VNets == nil {
			everywhere[k] = r
		}
		for _, v := range r.VNets {
			if first[key{k.dir, k.prio, v}] == nil {
				first[key{k.dir, k.prio, v}] = r
			}
		}
	}
}

func (l *loader) finalWarnings() {
	for _, r := range l.asgRefs {
		if len(r.asg.Members) == 0 {
			l.warnAt(r.at.pos(), r.at.t.resource(), fmt.Sprintf("%s: asg %q has no members, so this side matches no address", r.at.key, r.asg.Name))
		}
	}
	for _, g := range l.env.NSGs {
		if !l.nsgAttached[g] {
			l.warnAt(g.Pos, resName("", "nsg", g.Name), "attached to no subnet and no NIC, so its rules apply nowhere")
		}
	}
}
