// Package engine evaluates flows against an environment exactly as Azure's IP flow verify does:
// security admin rules, then the subnet and NIC NSGs in Azure's order, first match by priority.
//
// Compile turns a loaded model.Environment into integer ranges and per-NIC contexts once;
// evaluation then never parses text. Decide gives the verdict without allocating; Verify gives
// the verdict with a full trace of every rule tried.
package engine

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"ipflow/model"
)

// Engine is a compiled environment. It is immutable and safe for concurrent use.
type Engine struct {
	env     *model.Environment
	vms     nameTable
	vmNames []string
}

type vmEntry struct {
	vm      *model.VM
	targets []*target // one per IP configuration, in NIC order
}

// LayerKind says what a layer of evaluation is.
type LayerKind uint8

const (
	AdminLayer  LayerKind = iota // the security admin rules of the VNet
	SubnetLayer                  // the NSG of the NIC's subnet
	NICLayer                     // the NSG of the NIC
)

// Layer is one step of evaluation for a NIC: its VNet's admin rules, its subnet's NSG or its own
// NSG. Layers are built at compile time and shared; they never change.
type Layer struct {
	Kind      LayerKind
	NSG       *model.NSG // nil for the admin layer, or when no NSG is associated
	VNet      *model.VNet
	Subnet    *model.Subnet // for SubnetLayer
	NIC       *model.NIC    // for NICLayer
	AppliedTo string        // subnet/VNET/SUBNET, networkInterface/NIC or virtualNetwork/VNET

	table *ruleTable // shared by every layer of the same NSG; nil when there is no NSG
}

// ruleTable is an NSG's (or a VNet's admin) rules compiled for each direction. It is built
// once per NSG and shared by every subnet and NIC the NSG is attached to.
type ruleTable [2]dirRules

// dirRules are the rules of one direction in evaluation order (ascending priority).
type dirRules struct {
	sorted []*model.Rule
	rules  []cRule
	hot    []hotRule  // parallel to rules
	index  *ruleIndex // nil for short rule lists
}

// Name is the NSG's name, or "security admin rules" for the admin layer.
func (l *Layer) Name() string {
	if l.Kind == AdminLayer {
		return "security admin rules"
	}
	if l.NSG == nil {
		return ""
	}
	return l.NSG.Name
}

// Rules are the layer's rules of direction d (custom and default) in evaluation order.
func (l *Layer) Rules(d model.Direction) []*model.Rule {
	if l.table == nil {
		return nil
	}
	return l.table[d].sorted
}

// target is one IP configuration of a VM with everything its evaluation needs.
type target struct {
	ipc   *model.IPConfig
	ip    uint32 // ipc.PrivateIP
	net   *netContext
	admin *Layer       // nil when no admin rule applies to the VNet
	order [2][2]*Layer // per direction: the two NSG levels in Azure's order
	// local holds, per direction and layer slot (0 the admin layer, 1 and 2 the NSGs in
	// order[d]), which rules' local side holds this IP configuration's address: exact, tags
	// and ASGs included, since the local address is fixed. nil where the layer has no index.
	local [2][3][]uint64
	// steps are, per direction, the layers that have rules, in evaluation order: the
	// verdict path walks them without looking anything up.
	steps [2][]step
}

type step struct {
	layer *Layer
	rules *dirRules
	local []uint64
}

// plan fills t.local and t.steps once the target's layers are set.
func (t *target) plan() {
	for d := range 2 {
		for slot, l := range [3]*Layer{t.admin, t.order[d][0], t.order[d][1]} {
			if l == nil || l.table == nil {
				continue
			}
			rs := &l.table[d]
			if rs.index != nil {
				t.local[d][slot] = localBits(rs.rules, model.Direction(d), t)
			}
			t.steps[d] = append(t.steps[d], step{l, rs, t.local[d][slot]})
		}
	}
}

func (t *target) inASG(a *model.ASG) bool { return slices.Contains(t.ipc.ASGs, a) }

// netContext holds the address sets that depend on where a NIC sits: its VNet, the VNets peered with it
// (not transitively) and their on-premises prefixes.
type netContext struct {
	subnet   *model.Subnet
	vnet     ipSet // VirtualNetwork for NICs in this subnet
	internet ipSet // Internet for NICs in this subnet
}

// reserved ranges are neither VirtualNetwork nor Internet unless a VNet claims them.
var reserved = newIPSet(
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
)

var loadBalancer = newIPSet(netip.PrefixFrom(model.AzurePlatformIP(), 32))

// virtualNetworkPrefixes is what VirtualNetwork holds for a NIC in subnet s.
func virtualNetworkPrefixes(s *model.Subnet) []netip.Prefix {
	var ps []netip.Prefix
	v := s.VNet
	ps = append(ps, v.AddressSpace...)
	ps = append(ps, v.OnPremPrefixes...)
	for _, p := range v.Peers {
		ps = append(ps, p.AddressSpace...)
		ps = append(ps, p.OnPremPrefixes...)
	}
	ps = append(ps, netip.PrefixFrom(model.AzurePlatformIP(), 32))
	return append(ps, s.Routes...)
}

type matchKind uint8

const (
	matchAny  matchKind = iota // *
	matchSet                   // prefixes and tags with fixed prefixes
	matchTags                  // matchSet plus VirtualNetwork and/or Internet, which depend on the NIC
	matchASG                   // application security groups
)

type asgRef struct {
	asg     *model.ASG
	members ipSet
}

// addrMatch is a compiled rule side's addresses. In NSG rules a tag or * stands alone on its
// side (as in Azure); admin rules may list several tags and prefixes, so a side is the union
// of a fixed set and the NIC-dependent tags.
type addrMatch struct {
	kind           matchKind
	set            ipSet // prefixes, AzureLoadBalancer and custom tags
	vnet, internet bool  // for matchTags: VirtualNetwork, Internet of the evaluated NIC
	asgs           []asgRef
	members        ipSet // for matchASG: every member address of every ASG, for analysis
}

func (m *addrMatch) match(ip uint32, local bool, t *target) bool {
	switch m.kind {
	case matchAny:
		return true
	case matchSet:
		return m.set.contains(ip)
	case matchTags:
		return m.set.contains(ip) || (m.vnet && t.net.vnet.contains(ip)) || (m.internet && t.net.internet.contains(ip))
	}
	for i := range m.asgs {
		// The evaluated NIC's own address is an ASG member when its IP configuration is.
		if local {
			if t.inASG(m.asgs[i].asg) {
				return true
			}
		} else if m.asgs[i].members.contains(ip) {
			return true
		}
	}
	return false
}

// cRule is a compiled rule: cheap checks first.
type cRule struct {
	protoMask    uint8
	access       model.Access
	sport, dport portSet
	sportAll     bool
	dportAll     bool
	src, dst     addrMatch
	rule         *model.Rule
}

func protoBit(p model.Protocol) uint8 { return 1 << p }

const allProtocols = 0xff

type compiler struct {
	env      *model.Environment
	unions   map[string]ipSet // members of several ASGs, by their names
	tags     map[string]ipSet
	asgs     map[*model.ASG]ipSet
	nsgs     map[*model.NSG]*ruleTable
	subnets  map[*model.Subnet]*netContext
	subLayer map[*model.Subnet]*Layer
	admin    map[*model.VNet]*Layer
}

// Compile builds an Engine from a loaded environment. The environment must come from
// model.Load (validated and linked); Compile does not re-validate it.
func Compile(env *model.Environment) *Engine {
	c := &compiler{
		env:      env,
		tags:     map[string]ipSet{model.TagAzureLoadBalancer: loadBalancer},
		asgs:     map[*model.ASG]ipSet{},
		nsgs:     map[*model.NSG]*ruleTable{},
		subnets:  map[*model.Subnet]*netContext{},
		subLayer: map[*model.Subnet]*Layer{},
		admin:    map[*model.VNet]*Layer{},
	}
	for name, ps := range env.ServiceTags {
		c.tags[name] = newIPSet(ps...)
	}
	for _, a := range env.ASGs {
		ps := make([]netip.Prefix, 0, len(a.Members))
		for _, m := range a.Members {
			ps = append(ps, netip.PrefixFrom(m.PrivateIP, 32))
		}
		c.asgs[a] = newIPSet(ps...)
	}
	e := &Engine{env: env}
	entries := make([]*vmEntry, 0, len(env.VMs))
	for _, vm := range env.VMs {
		ent := &vmEntry{vm: vm}
		for _, nic := range vm.NICs {
			nicLayer := c.nsgLayer(NICLayer, nic.NSG)
			nicLayer.NIC, nicLayer.AppliedTo = nic, "networkInterface/"+nic.Name
			for _, ipc := range nic.IPConfigs {
				if ipc.Subnet == nil || !ipc.PrivateIP.Is4() {
					continue
				}
				nicLayer.VNet = ipc.Subnet.VNet
				sub := c.subnetLayer(ipc.Subnet)
				t := &target{ipc: ipc, ip: ip4(ipc.PrivateIP), net: c.context(ipc.Subnet), admin: c.adminLayer(ipc.Subnet.VNet)}
				t.order[model.Inbound] = [2]*Layer{sub, nicLayer}
				t.order[model.Outbound] = [2]*Layer{nicLayer, sub}
				t.plan()
				ent.targets = append(ent.targets, t)
			}
		}
		entries = append(entries, ent)
		e.vmNames = append(e.vmNames, vm.Name)
	}
	e.vms = newNameTable(entries)
	return e
}

// Environment is the environment the engine was compiled from.
func (e *Engine) Environment() *model.Environment { return e.env }

func (c *compiler) context(s *model.Subnet) *netContext {
	if n, ok := c.subnets[s]; ok {
		return n
	}
	vnet := newIPSet(virtualNetworkPrefixes(s)...)
	n := &netContext{subnet: s, vnet: vnet, internet: vnet.union(reserved).complement()}
	c.subnets[s] = n
	return n
}

func (c *compiler) subnetLayer(s *model.Subnet) *Layer {
	if l, ok := c.subLayer[s]; ok {
		return l
	}
	l := c.nsgLayer(SubnetLayer, s.NSG)
	l.VNet, l.Subnet, l.AppliedTo = s.VNet, s, "subnet/"+s.Path()
	c.subLayer[s] = l
	return l
}

func (c *compiler) nsgLayer(kind LayerKind, nsg *model.NSG) *Layer {
	l := &Layer{Kind: kind, NSG: nsg}
	if nsg == nil {
		return l
	}
	if l.table = c.nsgs[nsg]; l.table == nil {
		l.table = c.newTable(append(slices.Clone(nsg.Rules), model.DefaultRules()...))
		c.nsgs[nsg] = l.table
	}
	return l
}

func (c *compiler) adminLayer(v *model.VNet) *Layer {
	if l, ok := c.admin[v]; ok {
		return l
	}
	var rules []*model.Rule
	for _, a := range c.env.AdminRules {
		if a.AppliesTo(v) {
			rules = append(rules, &a.Rule)
		}
	}
	var l *Layer
	if len(rules) > 0 {
		l = &Layer{Kind: AdminLayer, VNet: v, AppliedTo: "virtualNetwork/" + v.Name, table: c.newTable(rules)}
	}
	c.admin[v] = l
	return l
}

// asgUnion is every member address of the ASGs: one ASG's own set, or a union made once per
// combination (rules often name the same few ASGs).
func (c *compiler) asgUnion(asgs []*model.ASG) ipSet {
	if len(asgs) == 1 {
		return c.asgs[asgs[0]]
	}
	var key strings.Builder
	for _, a := range asgs {
		key.WriteString(a.Name)
		key.WriteByte(0)
	}
	if u, ok := c.unions[key.String()]; ok {
		return u
	}
	var u ipSet
	for _, a := range asgs {
		u = u.union(c.asgs[a])
	}
	if c.unions == nil {
		c.unions = map[string]ipSet{}
	}
	c.unions[key.String()] = u
	return u
}

// newTable compiles rules for both directions, with their hot records and index.
func (c *compiler) newTable(rules []*model.Rule) *ruleTable {
	t := &ruleTable{}
	for d := range t {
		rs := &t[d]
		rs.rules = c.compileRules(rules, model.Direction(d))
		rs.sorted = make([]*model.Rule, len(rs.rules))
		rs.hot = make([]hotRule, len(rs.rules))
		for i := range rs.rules {
			rs.sorted[i] = rs.rules[i].rule
			rs.hot[i] = newHotRule(&rs.rules[i])
		}
		rs.index = newRuleIndex(rs.rules)
	}
	return t
}

// accessRank orders rules of equal priority: Deny, then AlwaysAllow, then Allow.
func accessRank(a model.Access) int {
	switch a {
	case model.Deny:
		return 0
	case model.AlwaysAllow:
		return 1
	}
	return 2
}

// compileRules compiles the rules of direction d in evaluation order: ascending priority.
func (c *compiler) compileRules(rules []*model.Rule, d model.Direction) []cRule {
	var sel []*model.Rule
	for _, r := range rules {
		if r.Direction == d {
			sel = append(sel, r)
		}
	}
	slices.SortStableFunc(sel, func(a, b *model.Rule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(accessRank(a.Access), accessRank(b.Access)), cmp.Compare(a.Name, b.Name))
	})
	out := make([]cRule, len(sel))
	for i, r := range sel {
		cr := cRule{rule: r, access: r.Access, protoMask: allProtocols}
		if r.Protocol != model.AnyProtocol {
			cr.protoMask = protoBit(r.Protocol)
		}
		cr.sport, cr.dport = newPortSet(r.Source.Ports), newPortSet(r.Destination.Ports)
		cr.sportAll, cr.dportAll = len(r.Source.Ports) == 0 || cr.sport.all(), len(r.Destination.Ports) == 0 || cr.dport.all()
		cr.src, cr.dst = c.side(r.Source), c.side(r.Destination)
		out[i] = cr
	}
	return out
}

func (c *compiler) side(s model.Side) addrMatch {
	if len(s.ASGs) > 0 {
		m := addrMatch{kind: matchASG}
		for _, a := range s.ASGs {
			m.asgs = append(m.asgs, asgRef{asg: a, members: c.asgs[a]})
		}
		m.members = c.asgUnion(s.ASGs)
		return m
	}
	m := addrMatch{kind: matchSet}
	var ps []netip.Prefix
	for _, a := range s.Addresses {
		switch {
		case a.Kind == model.AnyAddress:
			return addrMatch{kind: matchAny}
		case a.Kind == model.PrefixAddress:
			ps = append(ps, a.Prefix)
		case a.Tag == model.TagVirtualNetwork:
			m.kind, m.vnet = matchTags, true
		case a.Tag == model.TagInternet:
			m.kind, m.internet = matchTags, true
		default:
			m.set = m.set.union(c.tags[a.Tag])
		}
	}
	m.set = m.set.union(newIPSet(ps...))
	return m
}
