// Package suggest answers "what is the smallest change that gives this flow the opposite
// verdict, and what else does it change?": change sets (package whatif) that flip a flow's
// verdict, smallest first, each with its blast radius — every other flow whose verdict or
// deciding rule it changes — computed exactly by analysis.Diff of the estate before and after.
package suggest

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
	"ipflow/whatif"
)

// Kind is how a suggestion changes the rules.
type Kind string

const (
	// Add adds a narrow rule: the flow's protocol, the remote address /32, the local address
	// /32, the flow's service port, at a free priority just above the rule that decides.
	Add Kind = "add"
	// Edit extends a near-miss rule — one that fails on exactly one field — to hold the flow.
	Edit Kind = "edit"
	// Broader adds the rule a person would write: the remote's prefix or service tag.
	Broader Kind = "broader"
)

var kindOrder = []Kind{Add, Edit, Broader}

// Suggestion is a change set that gives the flow the opposite verdict.
type Suggestion struct {
	Kind Kind
	// Admin says the changes are to security admin rules: an admin rule decided, or no NSG
	// is there to change; AdminWhy says which, in words.
	Admin    bool
	AdminWhy string
	Summary  string
	Changes  []whatif.Change
	// Verdict is the flow's verdict with the changes applied.
	Verdict engine.Verdict
	// Blast is every flow whose verdict or deciding rule the changes change (this one
	// included), per IP configuration and direction, exactly.
	Blast []analysis.NICDiff
	// Flows counts the flows in Blast: per box, protocols × remote addresses × remote ports ×
	// local ports (ports count once for protocols without ports).
	Flows *big.Int
}

// Result is a flow's verdict and the suggestions that reverse it.
type Result struct {
	Before *engine.Result
	// Want is the verdict the suggestions give.
	Want        model.Access
	Suggestions []Suggestion
	// Notes say why a kind of suggestion is missing, or what a person should know.
	Notes []string
}

// For suggests changes to e's estate that reverse flow f's verdict. The estate is not
// modified: each suggestion is evaluated on its own what-if copy.
func For(e *engine.Engine, f engine.Flow) (*Result, error) {
	before, err := e.Verify(f)
	if err != nil {
		return nil, err
	}
	s := &suggester{eng: e, base: e.Environment(), flow: before.Flow, before: before, want: model.Allow}
	if before.Access == model.Allow {
		s.want = model.Deny
	}
	s.vm = before.VM
	s.local = before.IPConfig
	out := &Result{Before: before, Want: s.want}
	seen := map[string]bool{}
	for _, v := range s.variants() {
		sg, note := s.build(v)
		if note != "" && !slices.Contains(out.Notes, note) {
			out.Notes = append(out.Notes, note)
		}
		if sg == nil {
			continue
		}
		key := whatif.Format(sg.Changes)
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := s.blast(sg); err != nil {
			return nil, err
		}
		out.Suggestions = append(out.Suggestions, *sg)
	}
	slices.SortStableFunc(out.Suggestions, func(a, b Suggestion) int {
		if ka, kb := slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind); ka != kb {
			return ka - kb
		}
		return a.Flows.Cmp(b.Flows)
	})
	return out, nil
}

type suggester struct {
	eng    *engine.Engine // the loaded estate compiled: what-ifs of it share its compiled parts
	base   *model.Environment
	flow   engine.Flow
	before *engine.Result
	want   model.Access
	vm     *model.VM
	local  *model.IPConfig
}

// variant is one way of writing the fix: its kind and the remote side it names.
type variant struct {
	kind   Kind
	remote model.Address
	label  string // how the remote is named in rule names: 13.107.21.200, 13.107.21.0_24, Internet
}

func (s *suggester) variants() []variant {
	addr := s.flow.RemoteIP
	narrow := model.Address{Kind: model.PrefixAddress, Prefix: netip.PrefixFrom(addr, 32)}
	out := []variant{{Add, narrow, addr.String()}, {Edit, narrow, addr.String()}}
	if p, ok := s.remotePrefix(); ok {
		out = append(out, variant{Broader, model.Address{Kind: model.PrefixAddress, Prefix: p}, strings.ReplaceAll(p.String(), "/", "_")})
	}
	if tag, ok := s.remoteTag(); ok {
		out = append(out, variant{Broader, model.Address{Kind: model.TagAddress, Tag: tag}, tag})
	}
	return out
}

// remotePrefix is the smallest prefix of the estate (a subnet, a VNet's address space or
// on-premises prefixes, a service tag's prefix) that holds the remote address, or its /24.
func (s *suggester) remotePrefix() (netip.Prefix, bool) {
	addr := s.flow.RemoteIP
	best := netip.Prefix{}
	consider := func(p netip.Prefix) {
		if p.Contains(addr) && p.Bits() < 32 && (!best.IsValid() || p.Bits() > best.Bits()) {
			best = p.Masked()
		}
	}
	for _, v := range s.base.VNets {
		for _, p := range slices.Concat(v.AddressSpace, v.OnPremPrefixes) {
			consider(p)
		}
		for _, sn := range v.Subnets {
			consider(sn.Prefix)
		}
	}
	for _, ps := range s.base.ServiceTags {
		for _, p := range ps {
			consider(p)
		}
	}
	if !best.IsValid() {
		best = netip.PrefixFrom(addr, 24).Masked()
	}
	return best, true
}

// remoteTag is the service tag a person would name for the remote: the smallest declared tag
// that holds it, else VirtualNetwork or Internet as they are for this NIC.
func (s *suggester) remoteTag() (string, bool) {
	addr := s.flow.RemoteIP
	best, size := "", uint64(0)
	names := make([]string, 0, len(s.base.ServiceTags))
	for name := range s.base.ServiceTags {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var n uint64
		in := false
		for _, p := range s.base.ServiceTags[name] {
			n += 1 << (32 - p.Bits())
			in = in || p.Contains(addr)
		}
		if in && (best == "" || n < size) {
			best, size = name, n
		}
	}
	if best != "" {
		return best, true
	}
	ts, err := engine.CompileWithBase(s.eng, whatif.Only(s.base, []*model.VM{s.vm})).VMTargets(s.vm.Name, s.local.NIC.Name)
	if err != nil {
		return "", false
	}
	v := engine.AddrBits(addr)
	for _, t := range ts {
		if t.IPConfig() != s.local {
			continue
		}
		for _, r := range t.VirtualNetwork() {
			if r.Lo <= v && v <= r.Hi {
				return model.TagVirtualNetwork, true
			}
		}
		for _, r := range t.Internet() {
			if r.Lo <= v && v <= r.Hi {
				return model.TagInternet, true
			}
		}
	}
	return "", false
}

// verify evaluates the flow in env.
func (s *suggester) verify(env *model.Environment) (*engine.Result, error) {
	return EvaluateWithBase(s.eng, env, s.flow)
}

// build makes the change set of one variant: it fixes the layer that decides, evaluates the
// flow again and repeats while another layer still decides against (inbound, the subnet's and
// the NIC's NSG may both block). It returns nil, and why, when the variant cannot be written.
func (s *suggester) build(v variant) (*Suggestion, string) {
	sg := &Suggestion{Kind: v.kind}
	res := s.before
	edited := false
	// One restricted view of the estate: the flow's VM with every NSG, VNet and admin rule.
	view := whatif.Only(s.base, []*model.VM{s.vm})
	for range 4 {
		if res.Access == s.want {
			break
		}
		cs, note := s.fix(v, res, sg.Changes, !edited)
		if cs == nil {
			return nil, note
		}
		for _, c := range cs {
			if c.Op == whatif.Replace && v.kind == Edit {
				edited = true
			}
			sg.Admin = sg.Admin || c.IsAdmin()
		}
		sg.Changes = append(sg.Changes, cs...)
		env, err := whatif.Apply(view, sg.Changes)
		if err != nil {
			return nil, "" // a change that does not apply is never suggested
		}
		if res, err = s.verify(env); err != nil {
			return nil, ""
		}
	}
	if res.Access != s.want || (v.kind == Edit && !edited) {
		return nil, ""
	}
	if sg.Admin {
		sg.AdminWhy = s.adminWhy()
	}
	sg.Verdict = res.Verdict
	parts := make([]string, len(sg.Changes))
	for i := range sg.Changes {
		parts[i] = s.describe(&sg.Changes[i])
	}
	sg.Summary = strings.Join(parts, "; ")
	return sg, ""
}

// adminWhy says why a suggestion changes admin rules.
func (s *suggester) adminWhy() string {
	verb := "allow"
	if s.want == model.Deny {
		verb = "deny"
	}
	v := s.before.Verdict
	if v.Rule == nil || v.Layer == nil {
		return "no NSG is associated with the subnet or the NIC and no admin rule matched, so only a security admin rule can " + verb + " it here (or associate an NSG)"
	}
	if v.Layer.Kind == engine.AdminLayer {
		return fmt.Sprintf("security admin rule %s decides this flow, so no NSG change can %s it", model.Printable(v.Rule.Name), verb)
	}
	return "an NSG change alone cannot " + verb + " it here"
}

// fix is the change that makes the deciding layer of res give the wanted verdict, or nil and
// why not. first says no near-miss was edited yet (an Edit variant edits the first layer that
// has a near-miss and adds narrow rules elsewhere).
func (s *suggester) fix(v variant, res *engine.Result, sofar []whatif.Change, first bool) ([]whatif.Change, string) {
	l, r := res.Verdict.Layer, res.Verdict.Rule
	if r == nil || l.Kind == engine.AdminLayer {
		// An admin rule decided (or nothing did, and there is no NSG to change).
		if v.kind == Edit {
			return nil, ""
		}
		c, note := s.adminRule(v, r, sofar)
		if c == nil {
			return nil, note
		}
		return []whatif.Change{*c}, ""
	}
	if v.kind == Edit {
		if c := s.nearMiss(res, l); c != nil {
			return []whatif.Change{*c}, ""
		}
		if first {
			return nil, ""
		}
	}
	return s.nsgRule(v, l.NSG.Name, r, sofar)
}

// nearMiss is a replace of the first rule of layer l, before the one that decided, whose
// access is the wanted one and which fails on exactly one field that can be extended.
func (s *suggester) nearMiss(res *engine.Result, l *engine.Layer) *whatif.Change {
	for i := range res.Layers {
		lt := &res.Layers[i]
		if lt.Layer != l {
			continue
		}
		for j := 0; j < lt.Match && j < len(lt.Tried); j++ {
			rule := lt.Rules()[j]
			if rule.Kind != model.CustomRule || rule.Access != s.want {
				continue
			}
			failed := ^lt.Tried[j] & (1<<engine.FieldCount - 1)
			if failed == 0 || failed&(failed-1) != 0 {
				continue
			}
			f, _ := lt.Tried[j].FirstFailed()
			if nr := s.extend(l.NSG.Name, rule.Name, f); nr != nil {
				return &whatif.Change{Op: whatif.Replace, NSG: l.NSG.Name, Name: nr.Name, Rule: nr}
			}
		}
	}
	return nil
}

// extend is the base estate's rule nsg/name with field f extended to hold the flow's value;
// nil when the field cannot be extended by a value (a service tag, ASGs).
func (s *suggester) extend(nsg, name string, f engine.Field) *model.Rule {
	var orig *model.Rule
	for _, g := range s.base.NSGs {
		if g.Name == nsg {
			for _, r := range g.Rules {
				if r.Name == name {
					orig = r
				}
			}
		}
	}
	if orig == nil {
		return nil
	}
	r := *orig
	sa, sp := s.flow.Source()
	da, dp := s.flow.Destination()
	addTo := func(side *model.Side, a netip.Addr) bool {
		for _, x := range side.Addresses {
			if x.Kind != model.PrefixAddress {
				return false
			}
		}
		if len(side.ASGs) > 0 || len(side.Addresses) >= model.MaxPrefixesPerSide {
			return false
		}
		side.Addresses = append(slices.Clip(side.Addresses), model.Address{Kind: model.PrefixAddress, Prefix: netip.PrefixFrom(a, 32)})
		return true
	}
	addPort := func(side *model.Side, p engine.Port) bool {
		if p == engine.AnyPort {
			return false
		}
		side.Ports = append(slices.Clip(side.Ports), model.PortRange{Lo: uint16(p), Hi: uint16(p)})
		return true
	}
	ok := false
	switch f {
	case engine.FieldProtocol:
		r.Protocol, ok = model.AnyProtocol, true
	case engine.FieldSource:
		ok = addTo(&r.Source, sa)
	case engine.FieldDestination:
		ok = addTo(&r.Destination, da)
	case engine.FieldSourcePort:
		ok = addPort(&r.Source, sp)
	case engine.FieldDestinationPort:
		ok = addPort(&r.Destination, dp)
	}
	if !ok {
		return nil
	}
	return &r
}

// narrow is the rule of variant v for the flow: its protocol, the remote side of v, the
// local address /32, the service port (the destination's), any source port.
func (s *suggester) narrow(v variant, name string, prio int, access model.Access) model.Rule {
	f := s.flow
	local := model.Address{Kind: model.PrefixAddress, Prefix: netip.PrefixFrom(f.LocalIP, 32)}
	all := []model.PortRange{model.AllPorts()}
	svc := all
	if _, dp := f.Destination(); f.Protocol.HasPorts() && dp != engine.AnyPort {
		svc = []model.PortRange{{Lo: uint16(dp), Hi: uint16(dp)}}
	}
	r := model.Rule{Name: name, Kind: model.CustomRule, Priority: prio, Direction: f.Direction, Access: access, Protocol: f.Protocol}
	if f.Direction == model.Inbound {
		r.Source = model.Side{Addresses: []model.Address{v.remote}, Ports: all}
		r.Destination = model.Side{Addresses: []model.Address{local}, Ports: svc}
	} else {
		r.Source = model.Side{Addresses: []model.Address{local}, Ports: all}
		r.Destination = model.Side{Addresses: []model.Address{v.remote}, Ports: svc}
	}
	return r
}

// ruleName is "allow-udp-123-from-13.107.21.200", unique among taken (case-insensitively).
func (s *suggester) ruleName(v variant, access model.Access, taken func(string) bool) string {
	f := s.flow
	verb := "allow"
	if access == model.Deny {
		verb = "deny"
	}
	prep := "from"
	if f.Direction == model.Outbound {
		prep = "to"
	}
	proto := strings.ToLower(f.Protocol.FlowString())
	if _, dp := f.Destination(); f.Protocol.HasPorts() && dp != engine.AnyPort {
		proto += "-" + dp.String()
	}
	base := fmt.Sprintf("%s-%s-%s-%s", verb, proto, prep, v.label)
	if len(base) > 76 {
		base = base[:76]
	}
	base = strings.TrimRight(base, ".-")
	name := base
	for i := 2; taken(name); i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

// nsgRule adds v's rule to nsg at the free priority just above rule r (the one that decided).
// When there is none (r is at 100, or every priority above it is taken) and the priority just
// below r is free, r moves there — no rule lies between, so that alone changes nothing — and
// the new rule takes r's place.
func (s *suggester) nsgRule(v variant, nsg string, r *model.Rule, sofar []whatif.Change) ([]whatif.Change, string) {
	var rules []*model.Rule
	for _, g := range s.base.NSGs {
		if g.Name == nsg {
			rules = g.Rules
		}
	}
	// The rules as the changes so far leave them.
	for _, c := range sofar {
		if c.NSG == nsg && c.Rule != nil {
			rules = append(slices.Clip(rules), c.Rule)
		}
	}
	used := map[int]bool{}
	names := map[string]bool{}
	for _, x := range rules {
		names[strings.ToLower(x.Name)] = true
		if x.Direction == s.flow.Direction {
			used[x.Priority] = true
		}
	}
	if len(rules) >= model.MaxRulesPerNSG {
		return nil, fmt.Sprintf("nsg %s already has %d rules, Azure's limit", model.Printable(nsg), len(rules))
	}
	name := s.ruleName(v, s.want, func(n string) bool { return names[strings.ToLower(n)] })
	prio := min(r.Priority-1, 4096)
	for prio >= 100 && used[prio] {
		prio--
	}
	if prio >= 100 {
		rule := s.narrow(v, name, prio, s.want)
		return []whatif.Change{{Op: whatif.Add, NSG: nsg, Name: name, Rule: &rule}}, ""
	}
	var moved *model.Rule
	for _, x := range rules {
		if x.Name == r.Name {
			moved = x
		}
	}
	if moved == nil || r.Kind != model.CustomRule || r.Priority+1 > 4096 || used[r.Priority+1] {
		return nil, fmt.Sprintf("nsg %s has no free priority above %s (priority %d), nor just below it to move it to",
			model.Printable(nsg), model.Printable(r.ID()), r.Priority)
	}
	m := *moved
	m.Priority++
	rule := s.narrow(v, name, r.Priority, s.want)
	return []whatif.Change{{Op: whatif.Replace, NSG: nsg, Name: m.Name, Rule: &m}, {Op: whatif.Add, NSG: nsg, Name: name, Rule: &rule}}, ""
}

// adminRule adds an admin rule for the flow's VNet just above admin rule r (nil: below every
// admin rule): AlwaysAllow to allow (NSGs are then skipped), Deny to deny.
func (s *suggester) adminRule(v variant, r *model.Rule, sofar []whatif.Change) (*whatif.Change, string) {
	vnet := s.local.Subnet.VNet
	used := map[int]bool{}
	names := map[string]bool{}
	admins := slices.Clone(s.base.AdminRules)
	for _, c := range sofar {
		if c.IsAdmin() && c.Admin != nil {
			admins = append(admins, c.Admin)
		}
	}
	for _, a := range admins {
		names[strings.ToLower(a.Name)] = true
		if a.Direction == s.flow.Direction && a.AppliesTo(vnet) {
			used[a.Priority] = true
		}
	}
	top := 4096
	if r != nil {
		top = r.Priority - 1
	}
	prio := top
	for prio >= 1 && used[prio] {
		prio--
	}
	if prio < 1 {
		return nil, fmt.Sprintf("no free admin rule priority above %s (priority %d)", model.Printable(r.ID()), r.Priority)
	}
	access := model.Deny
	if s.want == model.Allow {
		access = model.AlwaysAllow
	}
	name := s.ruleName(v, s.want, func(n string) bool { return names[strings.ToLower(n)] })
	rule := s.narrow(v, name, prio, access)
	rule.Kind = model.AdminRuleKind
	a := &model.AdminRule{Rule: rule, VNets: []*model.VNet{vnet}}
	return &whatif.Change{Op: whatif.Add, Name: name, Admin: a}, ""
}

// extended says what an edit added to the rule: ": protocol *", ": destination port 123".
func (s *suggester) extended(c *whatif.Change) string {
	for _, g := range s.base.NSGs {
		if g.Name != c.NSG {
			continue
		}
		for _, r := range g.Rules {
			if r.Name != c.Name {
				continue
			}
			n := c.Rule
			switch {
			case r.Protocol != n.Protocol:
				return ": protocol " + n.Protocol.String()
			case len(n.Source.Addresses) > len(r.Source.Addresses):
				return ": source " + n.Source.Addresses[len(n.Source.Addresses)-1].String()
			case len(n.Destination.Addresses) > len(r.Destination.Addresses):
				return ": destination " + n.Destination.Addresses[len(n.Destination.Addresses)-1].String()
			case len(n.Source.Ports) > len(r.Source.Ports):
				return ": source port " + n.Source.Ports[len(n.Source.Ports)-1].String()
			case len(n.Destination.Ports) > len(r.Destination.Ports):
				return ": destination port " + n.Destination.Ports[len(n.Destination.Ports)-1].String()
			}
		}
	}
	return ""
}

// describe is one change in words: "add allow-udp-123-from-13.107.21.200 (priority 3990) to
// nsg web-subnet-nsg".
func (s *suggester) describe(c *whatif.Change) string {
	moved := false
	if c.Op == whatif.Replace && !c.IsAdmin() {
		for _, g := range s.base.NSGs {
			for _, r := range g.Rules {
				if g.Name == c.NSG && r.Name == c.Name && r.Priority != c.Rule.Priority {
					x := *c.Rule
					x.Priority = r.Priority
					moved = whatif.Format([]whatif.Change{{Op: whatif.Add, NSG: c.NSG, Rule: &x}}) == whatif.Format([]whatif.Change{{Op: whatif.Add, NSG: c.NSG, Rule: r}})
				}
			}
		}
	}
	switch {
	case c.IsAdmin() && c.Op == whatif.Add:
		return fmt.Sprintf("add security admin rule %s (%s, priority %d) for vnet %s", model.Printable(c.Name), c.Admin.Access,
			c.Admin.Priority, model.Printable(c.Admin.VNets[0].Name))
	case c.Op == whatif.Add:
		return fmt.Sprintf("add %s (priority %d) to nsg %s", model.Printable(c.Name), c.Rule.Priority, model.Printable(c.NSG))
	case c.Op == whatif.Replace && moved:
		return fmt.Sprintf("move %s to priority %d in nsg %s", model.Printable(c.Name), c.Rule.Priority, model.Printable(c.NSG))
	case c.Op == whatif.Replace:
		return fmt.Sprintf("extend %s (priority %d) in nsg %s%s", model.Printable(c.Name), c.Rule.Priority, model.Printable(c.NSG), s.extended(c))
	}
	return c.What()
}

// Evaluate is flow f's verdict with its trace in env, compiling only the flow's VM: what a
// what-if needs to show a verdict at once (the rest of the estate compiles when asked for).
func Evaluate(env *model.Environment, f engine.Flow) (*engine.Result, error) {
	return EvaluateWithBase(nil, env, f)
}

// EvaluateWithBase is Evaluate for env, a what-if of base's estate (base may be nil): what the
// what-if did not change is taken from base, compiled (engine.CompileWithBase).
func EvaluateWithBase(base *engine.Engine, env *model.Environment, f engine.Flow) (*engine.Result, error) {
	for _, vm := range env.VMs {
		if vm.Name == f.VM {
			return engine.CompileWithBase(base, whatif.Only(env, []*model.VM{vm})).Verify(f)
		}
	}
	return engine.Compile(whatif.Only(env, nil)).Verify(f) // Verify says the VM is unknown
}
