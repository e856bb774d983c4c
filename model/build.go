package model

// The loader's state and the order in which it reads a fixture's tables. Each kind is read in the
// file named after it (environment.go, asg.go, nsg.go and rule.go, vnet.go, vm.go, admin.go);
// names are registered, and "defined twice" worded, in names.go.

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
)

// Known keys of every table of the fixture format (docs/fixture-format.md).
var (
	keysTop       = []string{"environment", "service_tags", "vnet", "nsg", "asg", "vm", "admin_rule"}
	keysEnv       = []string{"name", "description"}
	keysVNet      = []string{"name", "address_space", "peerings", "onprem_prefixes", "subnet"}
	keysSubnet    = []string{"name", "prefix", "nsg", "routes"}
	keysNSG       = []string{"name", "resource_group", "rule"}
	keysRule      = []string{"name", "priority", "direction", "access", "protocol", "source", "source_asgs", "source_ports", "destination", "destination_asgs", "destination_ports", "description"}
	keysAdminRule = []string{"name", "resource_group", "vnets", "priority", "direction", "access", "protocol", "source", "source_ports", "destination", "destination_ports", "description"}
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

const maxSuggestCalls = 200 // bounds the cost of "did you mean" on pathological fixtures

// loader holds the state of one Load.
type loader struct {
	files   []*srcFile
	fileIdx map[string]int
	errs    []Issue
	warns   []Issue
	env     *Environment

	suggestCalls *atomic.Int32 // shared with shadow loaders
	shadow       bool          // a shadow of readNSGs: reads one NSG's rules, suggests nothing
	wantSuggest  bool          // a shadow that would have suggested: its NSG is read again

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
	bothASGs     []bothASG          // NSG rules with ASGs on both sides, checked once ASG members are known
	asgHome      map[*ASG]asgMember // the first member of each ASG, which fixes its VNet
	ipOwner      map[vnetIP]ipUse
	ipcSubnetPos map[*IPConfig]at
	adminPrio    []adminPrio
}

type peerRef struct {
	from *VNet
	name string
	pos  Pos
	res  string
}

// bothASG is an NSG rule whose source and destination are both ASGs.
type bothASG struct {
	rule *Rule
	t    *tab
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
		vnets:        newRegistry[*VNet]("vnet", ""),
		nsgs:         newRegistry[*NSG]("nsg", ""),
		asgs:         newRegistry[*ASG]("asg", ""),
		vms:          newRegistry[*VM]("vm", ""),
		nics:         newRegistry[*NIC]("nic", ""),
		adminRules:   newRegistry[*AdminRule]("admin_rule", ""),
		subnetPos:    map[*Subnet]at{},
		nsgAttached:  map[*NSG]bool{},
		asgHome:      map[*ASG]asgMember{},
		ipOwner:      map[vnetIP]ipUse{},
		ipcSubnetPos: map[*IPConfig]at{},
	}
	for _, t := range []string{TagVirtualNetwork, TagInternet, TagAzureLoadBalancer} {
		l.tags[strings.ToLower(t)] = t
		l.tagNames = append(l.tagNames, t)
	}
	return l
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

// A tableSource hands build the decoded top-level tables: wholeFiles when every file is decoded
// before building starts, or a stream of pieces decoded while the model is built (stream.go).
type tableSource interface {
	// heads are the top-level tables that may hold anything (environment, service_tags, keys
	// the format does not know): one per file.
	heads() []*tab
	// each calls read with top-level tables holding the arrays of tables named kind, in file
	// order, as often as it takes, and then lets those arrays go: a large estate's decoded tree
	// is bigger than its model, and the heap it occupies is what the rest of the load would
	// otherwise carry along (tables kept for messages keep their own, smaller, parts).
	each(kind string, read func(roots []*tab))
}

// wholeFiles is the tableSource of files decoded whole.
type wholeFiles []*tab

func (w wholeFiles) heads() []*tab { return w }

func (w wholeFiles) each(kind string, read func([]*tab)) {
	read(w)
	for _, t := range w {
		delete(t.m, kind)
	}
}

// build validates and links the decoded tables into l.env.
func (l *loader) build(src tableSource) {
	for _, t := range src.heads() {
		t.unknown(keysTop, hintsTop)
		l.readEnvironment(t)
	}
	for _, t := range src.heads() {
		l.readServiceTags(t)
	}
	// Every table of a kind, in file order.
	readAll := func(kind string, read func(*tab)) {
		src.each(kind, func(roots []*tab) {
			for _, t := range roots {
				for _, c := range t.tables(kind, kind, kind) {
					read(c)
				}
			}
		})
	}
	// ASGs before NSGs (rules refer to ASGs), NSGs before VNets (subnets refer to NSGs).
	readAll("asg", l.readASG)
	src.each("nsg", l.readNSGs)
	readAll("vnet", l.readVNet)
	l.linkPeerings()
	readAll("vm", l.readVM)
	readAll("admin_rule", l.readAdminRule)
	l.checkAdminPriorities()
	l.checkBothASGs()
	l.finalWarnings()
	for _, f := range l.files {
		f.lines, f.root, f.text = nil, nil, ""
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
