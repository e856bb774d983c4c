package engine

import (
	"net/netip"
	"slices"
	"unsafe"

	"ipflow/model"
)

// This file opens the compiled estate to whole-space analysis (package analysis): for one IP
// configuration and one direction, each layer's rules as exact sets of remote addresses and
// ports, resolved exactly as Decide and Verify resolve them (tags for this NIC's subnet, ASG
// members, the local side against this IP configuration). Nothing is re-resolved elsewhere.

// IPRange is an inclusive range of IPv4 addresses as integers (a.b.c.d is a<<24|b<<16|c<<8|d).
type IPRange struct{ Lo, Hi uint32 }

// AddrBits is an IPv4 address as an integer (0 for anything else).
func AddrBits(a netip.Addr) uint32 { return ip4(a) }

// BitsAddr is the IPv4 address of an integer.
func BitsAddr(v uint32) netip.Addr { return fromIP4(v) }

// Target is one IP configuration of a VM as the engine evaluates it. The zero Target is invalid.
type Target struct{ t *target }

// IPConfig is the IP configuration; its NIC, VM and subnet hang off it.
func (t Target) IPConfig() *model.IPConfig { return t.t.ipc }

// Targets lists every IP configuration the engine can evaluate (IPv4, in a subnet), in VM and
// NIC order, deallocated VMs included (Verify refuses those; analyses say so their own way).
func (e *Engine) Targets() []Target {
	var out []Target
	for _, name := range e.vmNames {
		for _, t := range e.vms.get(name).targets {
			out = append(out, Target{t})
		}
	}
	return out
}

// VMTargets is the IP configurations of a VM, optionally only those of one NIC, with the
// errors Verify gives for an unknown VM or NIC. It does not check the power state.
func (e *Engine) VMTargets(vm, nic string) ([]Target, error) {
	ent := e.vms.get(vm)
	if ent == nil {
		return nil, e.unknownVM(vm)
	}
	var out []Target
	found := nic == ""
	for _, n := range ent.vm.NICs {
		found = found || n.Name == nic
	}
	if !found {
		return nil, inputErr("nic", "its NICs: "+nicList(ent.vm), "VM %q has no NIC %q", vm, nic)
	}
	for _, t := range ent.targets {
		if nic == "" || t.ipc.NIC.Name == nic {
			out = append(out, Target{t})
		}
	}
	if len(out) == 0 {
		return nil, inputErr("nic", "an IP configuration needs an IPv4 address in a subnet", "VM %q has no IP configuration the engine can evaluate", vm)
	}
	return out, nil
}

// Slots are a target's layers in one direction, in Azure's order: the admin layer (nil when
// no admin rule applies to the VNet), then the two NSG levels (inbound: subnet, NIC; outbound:
// NIC, subnet), each possibly without an NSG.
func (t Target) Slots(d model.Direction) [3]*Layer {
	return [3]*Layer{t.t.admin, t.t.order[d][0], t.t.order[d][1]}
}

// VirtualNetwork is what the VirtualNetwork tag holds for this target, as sorted ranges.
func (t Target) VirtualNetwork() []IPRange { return exportSet(t.t.net.vnet) }

// Internet is what the Internet tag holds for this target, as sorted ranges.
func (t Target) Internet() []IPRange { return exportSet(t.t.net.internet) }

// flowProtocols has the bits of the flow protocols, TCP to AH.
const flowProtocols = 1<<model.TCP | 1<<model.UDP | 1<<model.ICMP | 1<<model.ESP | 1<<model.AH

// RuleSpace is the set of flows one rule matches for a target and direction: every flow whose
// protocol is in Protocols, remote address in Remote and, for protocols with ports, remote port
// in RemotePorts and local port in LocalPorts. Only rules whose local side holds the target's
// address have a RuleSpace: the others match nothing. The slices are shared with the engine:
// read them, never modify them.
type RuleSpace struct {
	Index       int // position in Layer.Rules(d), the evaluation order
	Rule        *model.Rule
	Protocols   uint8     // bit 1<<p for each flow protocol p it matches
	Remote      []IPRange // sorted, disjoint, non-adjacent; empty when it matches no address
	RemotePorts []model.PortRange
	LocalPorts  []model.PortRange
}

// Spaces is the rules of layer slot (0 admin, 1 and 2 the NSG levels, as Slots) in direction
// d whose local side holds the target, in evaluation order. nil for an empty slot or no NSG.
func (t Target) Spaces(d model.Direction, slot int) []RuleSpace {
	l := t.Slots(d)[slot]
	if l == nil || l.table == nil {
		return nil
	}
	rs := &l.table.dirs[d]
	out := make([]RuleSpace, 0, len(rs.rules))
	for i := range rs.rules {
		c := &rs.rules[i]
		local, remote := &c.dst, &c.src
		lports, rports := c.dport, c.sport
		if d == model.Outbound {
			local, remote = remote, local
			lports, rports = rports, lports
		}
		if !local.match(t.t.ip, true, t.t) {
			continue
		}
		out = append(out, RuleSpace{Index: i, Rule: rs.sorted[i], Protocols: c.protoMask & flowProtocols, Remote: remoteSet(remote, t.t),
			RemotePorts: exportPorts(rports), LocalPorts: exportPorts(lports)})
	}
	return out
}

// SameSpaces reports, without computing them, that a's and b's Spaces(d, slot) are equal: the
// slot holds the same compiled rules in both (one table, or a what-if's table that shares its
// base's, engine.CompileWithBase) for the same address, subnet address sets and ASG names.
// False says nothing: the spaces may still be equal.
func SameSpaces(a, b Target, d model.Direction, slot int) bool {
	la, lb := a.Slots(d)[slot], b.Slots(d)[slot]
	if la == nil || lb == nil || la.table == nil || lb.table == nil {
		return false
	}
	ta, tb := la.table, lb.table
	if ta != tb && ta.from != tb && tb.from != ta && (ta.from == nil || ta.from != tb.from) {
		return false
	}
	x, y := a.t, b.t
	return x.ip == y.ip && sameSet(x.net.vnet, y.net.vnet) && sameSet(x.net.internet, y.net.internet) && sameASGNames(x.ipc.ASGs, y.ipc.ASGs)
}

// sameSet reports whether two compiled sets are one: the same ranges in memory.
func sameSet(a, b ipSet) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameASGNames(a, b []*model.ASG) bool {
	return slices.EqualFunc(a, b, func(x, y *model.ASG) bool { return x.Name == y.Name })
}

// remoteSet is every remote address a rule side matches for target t (the remote address is
// never the NIC's own as an ASG member: membership counts by address, as in addrMatch.match).
// Only NIC-dependent tags build a new set; the others are the compiled sets themselves.
func remoteSet(m *addrMatch, t *target) []IPRange {
	switch m.kind {
	case matchAny:
		return everyAddress
	case matchSet:
		return exportSet(m.set)
	case matchTags:
		s := m.set
		if m.vnet {
			s = s.union(t.net.vnet)
		}
		if m.internet {
			s = s.union(t.net.internet)
		}
		return exportSet(s)
	}
	return exportSet(m.members)
}

var everyAddress = []IPRange{{0, ^uint32(0)}}

// exportSet shares an ipSet's ranges as IPRanges: the two types have the same layout, and the
// sets are immutable once compiled, so no copy is made (analyses read many large ASG sets).
func exportSet(s ipSet) []IPRange {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*IPRange)(unsafe.Pointer(&s[0])), len(s))
}

func exportPorts(s portSet) []model.PortRange {
	if len(s) == 0 {
		return []model.PortRange{model.AllPorts()}
	}
	return []model.PortRange(s)
}

// exportSet relies on ipRange and IPRange having one layout; this fails to compile otherwise.
var _ = [1]struct{}{}[unsafe.Sizeof(ipRange{})-unsafe.Sizeof(IPRange{})]
