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
	"runtime"
	"slices"
	"strings"
	"sync"

	"ipflow/model"
)

// Engine is a compiled environment. It is immutable and safe for concurrent use.
type Engine struct {
	env     *model.Environment
	vms     nameTable
	vmNames []string
	// tables are the compiled rule tables by NSG, kept so that a what-if of this estate can
	// reuse those of the NSGs it leaves as they are (CompileWithBase).
	tables    map[*model.NSG]*ruleTable
	asgl      *asgList
	byName    func() map[string]*model.NSG // the NSGs by name, made on first use
	asgByName func() map[string]*model.ASG // the ASGs by name, made on first use
}

// sameMembers reports whether two ASGs have the same member addresses, in the same order.
func sameMembers(a, b *model.ASG) bool {
	return slices.EqualFunc(a.Members, b.Members, func(x, y *model.IPConfig) bool { return x.PrivateIP == y.PrivateIP })
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
type ruleTable struct {
	dirs [2]dirRules
	from *ruleTable // the base's table this one shares its compiled rules with (rebind)
	env  *asgList   // the ASGs its rules were compiled against
}

// asgList is an estate's ASGs, for the checks of a what-if's reuse.
type asgList struct {
	sets   map[*model.ASG]ipSet
	unique bool // distinct names: a name is one ASG
}

func (l *asgList) inList(a *model.ASG) bool {
	_, ok := l.sets[a]
	return ok && l.unique
}

// dirRules are the rules of one direction in evaluation order (ascending priority).
type dirRules struct {
	asg    bool // a rule's side names ASGs: its local bits depend on the ASGs' identity
	sorted []*model.Rule
	pos    []int32 // where each of sorted is in the rules the table was made of
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
	return l.table.dirs[d].sorted
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
// bt, when not nil, is the same IP configuration in the base of a what-if, in a subnet with the
// same address sets: its bits are taken for every table the two share, since they depend only
// on the table, the address, those sets and (for ASG rules) the ASGs' identity.
func (t *target) plan(bt *target) {
	for d := range 2 {
		for slot, l := range [3]*Layer{t.admin, t.order[d][0], t.order[d][1]} {
			if l == nil || l.table == nil {
				continue
			}
			rs := &l.table.dirs[d]
			if rs.index != nil {
				if b := bt.slot(d, slot); b != nil && sameLocal(bt, t, b.table, l.table, rs.asg) {
					t.local[d][slot] = bt.local[d][slot]
				} else {
					t.local[d][slot] = localBits(rs.rules, model.Direction(d), t)
				}
			}
			t.steps[d] = append(t.steps[d], step{l, rs, t.local[d][slot]})
		}
	}
}

// slot is the layer at slot (as in local) for direction d; nil for a nil target.
func (t *target) slot(d, slot int) *Layer {
	if t == nil {
		return nil
	}
	if slot == 0 {
		return t.admin
	}
	return t.order[d][slot-1]
}

// inASG compares names too: an estate's ASG names are distinct (model.Load refuses a name
// defined twice), so a name is one ASG, and a rule table compiled for a what-if's base serves
// the what-if's copies of its ASGs (rebind).
func (t *target) inASG(a *model.ASG) bool {
	for _, x := range t.ipc.ASGs {
		if x == a || x.Name == a.Name {
			return true
		}
	}
	return false
}

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
}

func protoBit(p model.Protocol) uint8 { return 1 << p }

const allProtocols = 0xff

type compiler struct {
	env      *model.Environment
	unions   map[string]ipSet // members of several ASGs, by their names
	tags     map[string]ipSet
	asgs     map[*model.ASG]ipSet // asgl.sets
	asgl     *asgList
	nsgs     map[*model.NSG]*ruleTable
	subnets  map[*model.Subnet]*netContext
	subLayer map[*model.Subnet]*Layer
	admin    map[*model.VNet]*Layer
	base     *Engine // CompileWithBase: the estate this one is a what-if of
	baseNSG  map[string]*model.NSG
	ctxFrom  map[*model.Subnet]*netContext // base's context whose address sets context(s) took
	sameASGs bool                          // env's ASGs are base's
	asgOf    map[*model.ASG]*model.ASG     // base's ASGs to env's of the same name and members
	scratch  *indexScratch                 // for building rule indexes
}

func (t *ruleTable) hasASG() bool { return t.dirs[0].asg || t.dirs[1].asg }

// Compile builds an Engine from a loaded environment. The environment must come from
// model.Load (validated and linked); Compile does not re-validate it.
func Compile(env *model.Environment) *Engine { return compile(nil, env) }

// CompileWithBase compiles env, a what-if of base's estate (made by package whatif from base's
// environment or a view of it: the same VMs, NICs, IP configurations, subnets and ASGs, with
// NSG and admin rules changed), reusing what did not change: the rule table of every NSG whose
// rules are the very rules of base's NSG of that name, the address sets of each subnet whose
// VirtualNetwork is the same, and each IP configuration's precomputed rule bits for the tables
// it shares with base. Everything reused is a pure function of what it is checked against, so
// the engine answers exactly as Compile(env) does; base is only read.
func CompileWithBase(base *Engine, env *model.Environment) *Engine {
	if base == nil {
		return Compile(env)
	}
	return compile(base, env)
}

func compile(base *Engine, env *model.Environment) *Engine {
	c := &compiler{
		base:     base,
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
	if base != nil && slices.Equal(base.env.ASGs, env.ASGs) {
		// A view of base (whatif.Only): the same ASGs, so the same member sets.
		c.asgl, c.asgs = base.asgl, base.asgl.sets
	} else {
		names := make(map[string]bool, len(env.ASGs))
		c.asgl = &asgList{sets: c.asgs, unique: true}
		for _, a := range env.ASGs {
			c.asgl.unique = c.asgl.unique && !names[a.Name]
			names[a.Name] = true
			if base != nil {
				// A what-if's copy of base's ASG: the same member addresses, the same set.
				if ba := base.asgByName()[a.Name]; ba != nil && sameMembers(ba, a) {
					c.asgs[a] = base.asgl.sets[ba]
					continue
				}
			}
			ps := make([]netip.Prefix, 0, len(a.Members))
			for _, m := range a.Members {
				ps = append(ps, netip.PrefixFrom(m.PrivateIP, 32))
			}
			c.asgs[a] = newIPSet(ps...)
		}
	}
	if base != nil {
		c.baseNSG = base.byName()
		c.ctxFrom = map[*model.Subnet]*netContext{}
		c.sameASGs = slices.Equal(base.env.ASGs, env.ASGs)
		if !sameTags(base.env.ServiceTags, env.ServiceTags) {
			c.base = nil // every set may differ: nothing to reuse
		}
	}
	e := &Engine{env: env, tables: c.nsgs, asgl: c.asgl}
	e.byName = sync.OnceValue(func() map[string]*model.NSG {
		m := make(map[string]*model.NSG, len(env.NSGs))
		for _, g := range env.NSGs {
			m[g.Name] = g
		}
		return m
	})
	e.asgByName = sync.OnceValue(func() map[string]*model.ASG {
		m := make(map[string]*model.ASG, len(env.ASGs))
		for _, a := range env.ASGs {
			if _, ok := c.asgl.sets[a]; ok && m[a.Name] == nil {
				m[a.Name] = a
			}
		}
		return m
	})
	if c.base == nil {
		c.compileTables()
	}
	entries := make([]*vmEntry, 0, len(env.VMs))
	for _, vm := range env.VMs {
		ent := &vmEntry{vm: vm}
		var old []*target // base's targets of this VM, when it has the same ones
		if c.base != nil {
			if be := c.base.vms.get(vm.Name); be != nil {
				old = be.targets
			}
		}
		for _, nic := range vm.NICs {
			nicLayer := c.nsgLayer(NICLayer, nic.NSG)
			nicLayer.NIC, nicLayer.AppliedTo = nic, "networkInterface/"+nic.Name
			for _, ipc := range nic.IPConfigs {
				if ipc.Subnet == nil || !ipc.PrivateIP.Is4() {
					continue
				}
				nicLayer.VNet = ipc.Subnet.VNet
				var bt *target // the same IP configuration in base, with the same address sets
				if i := len(ent.targets); i < len(old) && old[i].ip == ip4(ipc.PrivateIP) && old[i].ipc.Name == ipc.Name && old[i].ipc.NIC.Name == nic.Name {
					bt = old[i]
				}
				sub := c.subnetLayer(ipc.Subnet)
				net := c.contextLike(ipc.Subnet, bt)
				if bt != nil && c.ctxFrom[ipc.Subnet] != bt.net {
					bt = nil
				}
				t := &target{ipc: ipc, ip: ip4(ipc.PrivateIP), net: net, admin: c.adminLayer(ipc.Subnet.VNet)}
				t.order[model.Inbound] = [2]*Layer{sub, nicLayer}
				t.order[model.Outbound] = [2]*Layer{nicLayer, sub}
				t.plan(bt)
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

func (c *compiler) context(s *model.Subnet) *netContext { return c.contextLike(s, nil) }

// contextLike is context, taking the address sets of bt's context (bt from base) when s is
// first seen and its VirtualNetwork is the same as bt's subnet's.
func (c *compiler) contextLike(s *model.Subnet, bt *target) *netContext {
	if n, ok := c.subnets[s]; ok {
		return n
	}
	ps := virtualNetworkPrefixes(s)
	if bt != nil && slices.Equal(virtualNetworkPrefixes(bt.net.subnet), ps) {
		n := &netContext{subnet: s, vnet: bt.net.vnet, internet: bt.net.internet}
		c.subnets[s], c.ctxFrom[s] = n, bt.net
		return n
	}
	vnet := newIPSet(ps...)
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

// tablesPerWorker is how many NSG tables make compiling them in another goroutine worth it; a
// test sets it to 0 to compare with the tables made one by one.
var tablesPerWorker = 64

// compileTables compiles the rule table of every NSG the VMs below need (those of their NICs,
// and of the subnets of their IPv4 configurations, as compile's loop takes them), one goroutine
// per CPU: the tables are independent, and of a large estate they are most of the compiling.
func (c *compiler) compileTables() {
	if tablesPerWorker <= 0 {
		return // tests: the tables are made one by one, as the VMs need them
	}
	var nsgs []*model.NSG
	seen := map[*model.NSG]bool{}
	add := func(g *model.NSG) {
		if g != nil && !seen[g] {
			seen[g] = true
			nsgs = append(nsgs, g)
		}
	}
	for _, vm := range c.env.VMs {
		for _, nic := range vm.NICs {
			add(nic.NSG)
			for _, ipc := range nic.IPConfigs {
				if ipc.Subnet != nil && ipc.PrivateIP.Is4() {
					add(ipc.Subnet.NSG)
				}
			}
		}
	}
	tables := make([]*ruleTable, len(nsgs))
	workers := min(runtime.GOMAXPROCS(0), len(nsgs)/tablesPerWorker+1)
	var wg sync.WaitGroup
	for w := range workers {
		cw := *c
		cw.unions, cw.scratch = nil, nil // each worker's own cache of ASG unions and scratch; the rest is only read
		wg.Go(func() {
			for i := w; i < len(nsgs); i += workers {
				tables[i] = cw.newTable(append(slices.Clone(nsgs[i].Rules), model.DefaultRules()...))
			}
		})
	}
	wg.Wait()
	for i, g := range nsgs {
		c.nsgs[g] = tables[i]
	}
}

func (c *compiler) nsgLayer(kind LayerKind, nsg *model.NSG) *Layer {
	l := &Layer{Kind: kind, NSG: nsg}
	if nsg == nil {
		return l
	}
	if l.table = c.nsgs[nsg]; l.table == nil && c.base != nil {
		// A what-if's NSG whose rules are base's, rule for rule, has base's table.
		// ASG rules also need the same ASGs: their member sets come from env.ASGs.
		if bg := c.baseNSG[nsg.Name]; bg != nil {
			if t := c.base.tables[bg]; t != nil && slices.Equal(bg.Rules, nsg.Rules) && (!t.hasASG() || c.sameASGs) {
				l.table = t
			} else if t != nil {
				l.table = c.rebind(t, bg.Rules, nsg.Rules)
			}
			if l.table != nil {
				c.nsgs[nsg] = l.table
			}
		}
	}
	if l.table == nil {
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
	t := &ruleTable{env: c.asgl}
	for d := range t.dirs {
		rs := &t.dirs[d]
		rs.rules, rs.sorted, rs.pos = c.compileRules(rules, model.Direction(d))
		for i := range rs.rules {
			rs.asg = rs.asg || rs.rules[i].src.kind == matchASG || rs.rules[i].dst.kind == matchASG
		}
		rs.hot = make([]hotRule, len(rs.rules))
		for i := range rs.rules {
			rs.hot[i] = newHotRule(&rs.rules[i])
		}
		if c.scratch == nil {
			c.scratch = new(indexScratch)
		}
		rs.index = newRuleIndex(rs.rules, c.scratch)
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

// compileRules compiles the rules of direction d in evaluation order (ascending priority); it
// returns them and the rules in that order.
func (c *compiler) compileRules(rules []*model.Rule, d model.Direction) ([]cRule, []*model.Rule, []int32) {
	var pos []int32 // where each rule is in rules
	for i, r := range rules {
		if r.Direction == d {
			pos = append(pos, int32(i))
		}
	}
	slices.SortStableFunc(pos, func(i, j int32) int {
		a, b := rules[i], rules[j]
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(accessRank(a.Access), accessRank(b.Access)), cmp.Compare(a.Name, b.Name))
	})
	sel := make([]*model.Rule, len(pos))
	for i, p := range pos {
		sel[i] = rules[p]
	}
	out := make([]cRule, len(sel))
	for i, r := range sel {
		cr := cRule{access: r.Access, protoMask: allProtocols}
		if r.Protocol != model.AnyProtocol {
			cr.protoMask = protoBit(r.Protocol)
		}
		cr.sport, cr.dport = newPortSet(r.Source.Ports), newPortSet(r.Destination.Ports)
		cr.sportAll, cr.dportAll = len(r.Source.Ports) == 0 || cr.sport.all(), len(r.Destination.Ports) == 0 || cr.dport.all()
		cr.src, cr.dst = c.side(r.Source), c.side(r.Destination)
		out[i] = cr
	}
	return out, sel, pos
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

// sameTags reports whether two service tag tables are the same: the same prefix slices.
func sameTags(a, b map[string][]netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for k, ps := range a {
		qs, ok := b[k]
		if !ok || !slices.Equal(ps, qs) {
			return false
		}
	}
	return true
}

// sharedTables counts the rule tables e shares with base, as they are or rebound (rebind), for
// the tests of CompileWithBase.
func sharedTables(base, e *Engine) (same, rebound int) {
	for _, t := range e.tables {
		for _, bt := range base.tables {
			if t == bt {
				same++
				break
			}
			if t.from == bt {
				rebound++
				break
			}
		}
	}
	return same, rebound
}

// rebind is base's table t of an NSG whose rules were old, for the same NSG in a what-if whose
// rules are rules: when each rule is the old one or a copy of it that differs only in naming
// ASGs of the same names and members (a what-if copies the ASGs), the compiled rules are
// shared with the rule and ASG references pointed at the what-if's. nil when they differ.
func (c *compiler) rebind(t *ruleTable, old, rules []*model.Rule) *ruleTable {
	if len(old) != len(rules) || !c.asgl.unique || !c.base.asgl.unique {
		return nil
	}
	if c.asgOf == nil {
		c.asgOf = map[*model.ASG]*model.ASG{}
	}
	for i, r := range rules {
		if !c.sameRule(old[i], r, c.asgOf) {
			return nil
		}
	}
	// The table was made of old and the default rules: rule i of those is now rules[i].
	out := &ruleTable{from: t, env: c.asgl}
	for d := range out.dirs {
		bs, rs := &t.dirs[d], &out.dirs[d]
		*rs = *bs // compiled rules, hot records and index: shared (ASGs match by name, inASG)
		rs.sorted = make([]*model.Rule, len(bs.sorted))
		for i, p := range bs.pos {
			if int(p) < len(rules) {
				rs.sorted[i] = rules[p]
			} else {
				rs.sorted[i] = bs.sorted[i] // a default rule
			}
		}
	}
	return out
}

// sameRule reports whether r compiles as old does: the same fields, with ASGs of the same
// names whose members have the same addresses (recorded in asgOf, old to new).
func (c *compiler) sameRule(old, r *model.Rule, asgOf map[*model.ASG]*model.ASG) bool {
	if old == r && len(r.Source.ASGs)+len(r.Destination.ASGs) == 0 {
		return true
	}
	if old.Name != r.Name || old.Kind != r.Kind || old.Priority != r.Priority || old.Direction != r.Direction ||
		old.Access != r.Access || old.Protocol != r.Protocol || old.Description != r.Description || old.Pos != r.Pos {
		return false
	}
	for _, s := range [][2]model.Side{{old.Source, r.Source}, {old.Destination, r.Destination}} {
		if !equalOrShared(s[0].Addresses, s[1].Addresses) || !equalOrShared(s[0].Ports, s[1].Ports) || len(s[0].ASGs) != len(s[1].ASGs) {
			return false
		}
		for j, a := range s[0].ASGs {
			if !c.sameASG(a, s[1].ASGs[j], asgOf) {
				return false
			}
		}
	}
	return true
}

// equalOrShared is slices.Equal, at once for a slice shared by a rule and its copy.
func equalOrShared[T comparable](a, b []T) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}

// sameASG reports whether base's ASG old and env's ASG a are the same group: the same name and
// member addresses, each in its estate's list.
func (c *compiler) sameASG(old, a *model.ASG, asgOf map[*model.ASG]*model.ASG) bool {
	if n, ok := asgOf[old]; ok {
		return n == a
	}
	bs, ok1 := c.base.asgl.sets[old]
	ns, ok2 := c.asgs[a]
	if !ok1 || !ok2 || old.Name != a.Name || !slices.Equal(bs, ns) {
		return false
	}
	asgOf[old] = a
	return true
}

// sameLocal reports whether t's local bits for table nt are bt's (base's) for bt's table: nt
// is that table or rebinds it, and, when it has ASG rules, t's IP configuration is in the same
// ASGs (the very ones, or for a rebound table ASGs of the same names, each in its estate's
// list, where a name is one ASG).
func sameLocal(bt, t *target, btable, nt *ruleTable, asg bool) bool {
	switch {
	case btable == nil || (nt != btable && nt.from != btable):
		return false
	case !asg:
		return true
	case nt == btable:
		return slices.Equal(bt.ipc.ASGs, t.ipc.ASGs)
	}
	if len(bt.ipc.ASGs) != len(t.ipc.ASGs) {
		return false
	}
	for i, a := range t.ipc.ASGs {
		if a.Name != bt.ipc.ASGs[i].Name || !nt.env.inList(a) || !btable.env.inList(bt.ipc.ASGs[i]) {
			return false
		}
	}
	return true
}
