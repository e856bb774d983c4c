// Package effective lists the security rules that apply to a NIC, as Azure's "effective
// security rules" view does: per direction the security admin rules, then the NSGs in the order
// Azure evaluates them, each rule with its service tags and ASGs expanded to the prefixes they
// hold for that NIC and where each prefix comes from ("10.1.0.0/16 (peered VNet spoke-app)").
//
// The layers and their rule order are the engine's own (taken from a trace), so this view can
// never disagree with a verdict. It has no terminal imports: the TUI and `ipflow rules` use it.
package effective

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// Item is one prefix of an expanded rule side and where it comes from.
type Item struct {
	Prefix netip.Prefix
	From   string // "VNet hub", "peered VNet spoke-app", "NIC web-01-nic ipconfig1", "" for a literal
}

// Rule is a rule with both sides expanded for one IP configuration.
type Rule struct {
	*model.Rule
	ExpandedSource, ExpandedDestination []Item
	// EmptySource and EmptyDestination say why a side holds no address for this IP
	// configuration, when it holds none.
	EmptySource, EmptyDestination string
}

// Layer is one layer of evaluation for a direction: admin rules or an NSG (or no NSG).
type Layer struct {
	*engine.Layer
	Rules []Rule // in evaluation order; empty when no NSG is associated
}

// Direction is what applies to a NIC in one direction, layers in evaluation order.
type Direction struct {
	Direction model.Direction
	Layers    []Layer
}

// NIC is the effective security rules of a NIC's IP configuration, inbound then outbound.
type NIC struct {
	VM         *model.VM
	NIC        *model.NIC
	IPConfig   *model.IPConfig
	Directions []Direction
}

// ForNIC computes the effective rules of nic's primary IP configuration (or of ipc, when not
// nil) in the directions given (both when none). The engine's own trace of a probe flow gives
// the layers, so their order is exactly the one Verify uses.
func ForNIC(eng *engine.Engine, nic *model.NIC, ipc *model.IPConfig, dirs ...model.Direction) (*NIC, error) {
	if ipc == nil {
		ipc = nic.PrimaryIPConfig()
	}
	if len(dirs) == 0 {
		dirs = []model.Direction{model.Inbound, model.Outbound}
	}
	out := &NIC{VM: nic.VM, NIC: nic, IPConfig: ipc}
	if ipc == nil {
		return out, nil
	}
	ex := NewExpander(eng.Environment(), ipc)
	for _, d := range dirs {
		probe := engine.Flow{VM: nic.VM.Name, NIC: nic.Name, Direction: d, Protocol: model.TCP,
			LocalIP: ipc.PrivateIP, LocalPort: 1, RemoteIP: ipc.PrivateIP, RemotePort: 1}
		res, err := eng.Verify(probe)
		if err != nil {
			return nil, err
		}
		dir := Direction{Direction: d}
		for i := range res.Layers {
			dir.Layers = append(dir.Layers, ex.Layer(res.Layers[i].Layer, d))
		}
		out.Directions = append(out.Directions, dir)
	}
	return out, nil
}

// Expander expands rule sides for one IP configuration.
type Expander struct {
	env   *model.Environment
	ipc   *model.IPConfig
	vnet  []Item // VirtualNetwork as this NIC sees it
	inet  []Item // Internet: public addresses outside VirtualNetwork
	cache map[*model.Rule]Rule
}

// NewExpander prepares the tags as ipc sees them.
func NewExpander(env *model.Environment, ipc *model.IPConfig) *Expander {
	x := &Expander{env: env, ipc: ipc, cache: map[*model.Rule]Rule{}}
	x.vnet = VirtualNetwork(ipc.Subnet)
	ps := make([]netip.Prefix, 0, len(x.vnet)+len(reserved))
	for _, it := range x.vnet {
		ps = append(ps, it.Prefix)
	}
	for _, p := range Complement(append(ps, reserved...)) {
		x.inet = append(x.inet, Item{p, "Internet: public, outside VirtualNetwork"})
	}
	return x
}

// Layer expands a layer's rules of direction d.
func (x *Expander) Layer(l *engine.Layer, d model.Direction) Layer {
	out := Layer{Layer: l}
	for _, r := range l.Rules(d) {
		out.Rules = append(out.Rules, x.Rule(r))
	}
	return out
}

// Rule expands both sides of r.
func (x *Expander) Rule(r *model.Rule) Rule {
	if e, ok := x.cache[r]; ok {
		return e
	}
	local := r.Direction == model.Outbound // the NIC's own side is the source outbound
	e := Rule{Rule: r, ExpandedSource: x.Side(r.Source, local), ExpandedDestination: x.Side(r.Destination, !local)}
	if len(e.ExpandedSource) == 0 {
		e.EmptySource = x.empty(r.Source, local)
	}
	if len(e.ExpandedDestination) == 0 {
		e.EmptyDestination = x.empty(r.Destination, !local)
	}
	x.cache[r] = e
	return e
}

// Side expands a rule side's addresses: literals stay, * is 0.0.0.0/0, tags become their
// prefixes for this NIC, ASGs their members' addresses. local says the side is the NIC's own
// (for an ASG there, only this IP configuration's membership counts, as in the engine).
func (x *Expander) Side(s model.Side, local bool) []Item {
	var out []Item
	for _, a := range s.ASGs {
		for _, m := range a.Members {
			if local && m != x.ipc {
				continue // on the local side only the evaluated IP configuration can be a member
			}
			out = append(out, Item{netip.PrefixFrom(m.PrivateIP, 32), "ASG " + a.Name + ": " + m.NIC.Name + " " + m.Name})
		}
	}
	for _, a := range s.Addresses {
		switch a.Kind {
		case model.AnyAddress:
			out = append(out, Item{netip.MustParsePrefix("0.0.0.0/0"), "*"})
		case model.PrefixAddress:
			out = append(out, Item{a.Prefix, ""})
		default:
			switch a.Tag {
			case model.TagVirtualNetwork:
				out = append(out, x.vnet...)
			case model.TagInternet:
				out = append(out, x.inet...)
			case model.TagAzureLoadBalancer:
				out = append(out, Item{netip.PrefixFrom(model.AzurePlatformIP(), 32), "AzureLoadBalancer: the Azure host"})
			default:
				for _, p := range x.env.ServiceTags[a.Tag] {
					out = append(out, Item{p, "service tag " + a.Tag})
				}
			}
		}
	}
	return out
}

// empty says why side s holds no address for this IP configuration (Side gave none).
func (x *Expander) empty(s model.Side, local bool) string {
	if len(s.ASGs) > 0 {
		names := make([]string, len(s.ASGs))
		members := 0
		for i, a := range s.ASGs {
			names[i] = "ASG " + a.Name
			members += len(a.Members)
		}
		list := strings.Join(names, ", ")
		if local && members > 0 {
			return x.ipc.NIC.Name + " " + x.ipc.Name + " is not a member of " + list + " (on the NIC's own side only its own membership counts)"
		}
		return list + " has no members"
	}
	var why []string
	for _, a := range s.Addresses {
		switch {
		case a.Kind != model.TagAddress:
		case a.Tag == model.TagInternet:
			why = append(why, "Internet is empty here: VirtualNetwork (with this subnet's routes) covers every public address")
		case a.Tag != model.TagVirtualNetwork && a.Tag != model.TagAzureLoadBalancer:
			why = append(why, "service tag "+a.Tag+" holds no prefix")
		}
	}
	if len(why) == 0 {
		return "no address"
	}
	return strings.Join(why, "; ")
}

// VirtualNetwork is what the VirtualNetwork tag holds for a NIC in subnet s, with where each
// prefix comes from: the VNet's address space and on-premises prefixes, those of its peered
// VNets, the Azure host address and the subnet's user-defined routes.
func VirtualNetwork(s *model.Subnet) []Item {
	if s == nil {
		return nil
	}
	v := s.VNet
	var out []Item
	add := func(ps []netip.Prefix, from string) {
		for _, p := range ps {
			out = append(out, Item{p, from})
		}
	}
	add(v.AddressSpace, "VirtualNetwork: VNet "+v.Name)
	add(v.OnPremPrefixes, "VirtualNetwork: on-premises of VNet "+v.Name)
	for _, p := range v.Peers {
		add(p.AddressSpace, "VirtualNetwork: peered VNet "+p.Name)
		add(p.OnPremPrefixes, "VirtualNetwork: on-premises of peered VNet "+p.Name)
	}
	add([]netip.Prefix{netip.PrefixFrom(model.AzurePlatformIP(), 32)}, "VirtualNetwork: the Azure host")
	add(s.Routes, "VirtualNetwork: route on subnet "+s.Path())
	return out
}

// reserved ranges are neither VirtualNetwork nor Internet unless a VNet claims them.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// Complement is the fewest IPv4 prefixes covering every address outside ps.
func Complement(ps []netip.Prefix) []netip.Prefix {
	type span struct{ lo, hi uint64 }
	spans := make([]span, 0, len(ps))
	for _, p := range ps {
		p = p.Masked()
		lo := uint64(u32(p.Addr()))
		spans = append(spans, span{lo, lo + 1<<(32-p.Bits()) - 1})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	var out []netip.Prefix
	next := uint64(0)
	for _, s := range spans {
		if s.lo > next {
			out = appendRange(out, next, s.lo-1)
		}
		next = max(next, s.hi+1)
	}
	if next <= 0xFFFFFFFF {
		out = appendRange(out, next, 0xFFFFFFFF)
	}
	return out
}

// appendRange appends the fewest prefixes covering [lo, hi].
func appendRange(out []netip.Prefix, lo, hi uint64) []netip.Prefix {
	for lo <= hi {
		bits := 32
		for bits > 0 {
			size := uint64(1) << (32 - (bits - 1))
			if lo%size != 0 || lo+size-1 > hi {
				break
			}
			bits--
		}
		out = append(out, netip.PrefixFrom(from32(uint32(lo)), bits))
		lo += uint64(1) << (32 - bits)
	}
	return out
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func from32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Contains reports whether addr is in one of the items.
func Contains(items []Item, addr netip.Addr) bool {
	for _, it := range items {
		if it.Prefix.Contains(addr) {
			return true
		}
	}
	return false
}
