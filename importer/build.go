package importer

// The importer's state: every resource read, by kind and ID, and the order in which they are
// converted. Each kind is converted in the file named after it (vnet.go, nsg.go, vm.go, tags.go).

import (
	"bytes"
	"fmt"
	"net/netip"
	"sort"
	"strings"
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
		e       *entry
		name    string
		vnet    *outVNet // the VNet of its members
		members int
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
	if r.badField != nil && it.kind != kUnknown && it.kind != kOtherType {
		im.warnf("%s: %s: %s", file, e.label(), wrongType(r.badField))
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
	im.bothSidesInOneVNet()
	im.collectTags()
}

// lazy is a message prefix built only when a warning needs it.
type lazy func() string

func (l lazy) String() string { return l() }

// ---- NSGs and rules ----

// ---- VNets, subnets, peerings, route tables ----

// ---- VMs, NICs, IP configurations ----
