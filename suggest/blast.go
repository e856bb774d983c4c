package suggest

import (
	"math/big"
	"slices"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
	"ipflow/whatif"
)

// blast fills in the suggestion's blast radius: the exact difference (analysis.DiffChanged,
// whose changes are analysis.Diff's) between the estate before and after, over the VMs the
// changes can reach. Every other VM is evaluated with the same rules in both estates, or only
// with changed rules whose local side does not hold it, which match none of its flows.
func (s *suggester) blast(sg *Suggestion) error {
	view := whatif.Only(s.base, Reached(s.base, sg.Changes))
	after, err := whatif.Apply(view, sg.Changes)
	if err != nil {
		return err
	}
	d := analysis.DiffChanged(engine.CompileWithBase(s.eng, view), engine.CompileWithBase(s.eng, after))
	sg.Blast = d.Changes
	sg.Flows = Count(d.Changes)
	return nil
}

// Reached are the VMs of env whose evaluation changes can affect, in env's order: those with
// an IP configuration under a changed NSG (or in a VNet a changed admin rule applies to) that
// the local side of a changed rule, old or new, may hold. Service tags and * may hold any
// address here, so they reach every IP configuration under the NSG.
func Reached(env *model.Environment, changes []whatif.Change) []*model.VM {
	type ruleAt struct {
		rule  *model.Rule
		vnets []*model.VNet // admin rules: nil every VNet
		admin bool
	}
	byNSG := map[string][]ruleAt{}
	var admins []ruleAt
	for _, c := range changes {
		if c.IsAdmin() {
			if c.Op != whatif.Remove {
				admins = append(admins, ruleAt{&c.Admin.Rule, c.Admin.VNets, true})
			}
			for _, a := range env.AdminRules {
				if a.Name == c.Name {
					admins = append(admins, ruleAt{&a.Rule, a.VNets, true})
				}
			}
			continue
		}
		if c.Op != whatif.Remove {
			byNSG[c.NSG] = append(byNSG[c.NSG], ruleAt{rule: c.Rule})
		}
		for _, g := range env.NSGs {
			if g.Name != c.NSG {
				continue
			}
			for _, r := range g.Rules {
				if r.Name == c.Name {
					byNSG[c.NSG] = append(byNSG[c.NSG], ruleAt{rule: r})
				}
			}
		}
	}
	holds := func(r *model.Rule, ipc *model.IPConfig) bool {
		side := r.Destination
		if r.Direction == model.Outbound {
			side = r.Source
		}
		for _, a := range side.ASGs {
			for _, m := range ipc.ASGs {
				if m.Name == a.Name {
					return true
				}
			}
		}
		for _, a := range side.Addresses {
			if a.Kind != model.PrefixAddress || a.Prefix.Contains(ipc.PrivateIP) {
				return true
			}
		}
		return false
	}
	reached := func(g *model.NSG, ipc *model.IPConfig) bool {
		if g == nil {
			return false
		}
		for _, ra := range byNSG[g.Name] {
			if holds(ra.rule, ipc) {
				return true
			}
		}
		return false
	}
	var out []*model.VM
	for _, vm := range env.VMs {
		hit := false
		for _, n := range vm.NICs {
			for _, c := range n.IPConfigs {
				if c.Subnet == nil {
					continue
				}
				hit = hit || reached(n.NSG, c) || reached(c.Subnet.NSG, c)
				for _, ra := range admins {
					hit = hit || (ra.vnets == nil || slices.Contains(ra.vnets, c.Subnet.VNet)) && holds(ra.rule, c)
				}
			}
		}
		if hit {
			out = append(out, vm)
		}
	}
	return out
}

// Count is the number of flows in a diff's boxes: per box, for each protocol, remote addresses
// × remote ports × local ports (addresses alone for protocols without ports).
func Count(changes []analysis.NICDiff) *big.Int {
	total := new(big.Int)
	for _, n := range changes {
		for _, c := range n.Changes {
			addrs := new(big.Int).SetUint64(c.Remote.Size())
			for _, p := range c.Protocols.List() {
				if !p.HasPorts() {
					total.Add(total, addrs)
					continue
				}
				x := new(big.Int).Mul(addrs, new(big.Int).SetUint64(portCount(c.RemotePorts)))
				x.Mul(x, new(big.Int).SetUint64(portCount(c.LocalPorts)))
				total.Add(total, x)
			}
		}
	}
	return total
}

func portCount(p analysis.PortSet) uint64 {
	n := uint64(0)
	for _, r := range p.Ranges() {
		n += uint64(r.Hi-r.Lo) + 1
	}
	return n
}
