package whatif

import (
	"slices"

	"ipflow/model"
)

// edits are the custom rules of the NSGs a change set touches, and the admin rules when it
// touches them, as they are once every change is applied.
type edits struct {
	nsgs         map[*model.NSG][]*model.Rule
	admin        []*model.AdminRule // nil: unchanged
	adminChanged bool
}

// rebuild copies env with the edits applied. Every resource its VMs are evaluated with is
// copied, so that the copy's references (a subnet's NSG, an IP configuration's ASGs, an ASG's
// members) lead into the copy and the original stays as it was; rules and values that hold no
// reference are shared, and so are NSGs no VM is under (their rules name the original ASGs).
func rebuild(env *model.Environment, ed *edits) *model.Environment {
	out := *env
	vnets := make(map[*model.VNet]*model.VNet, len(env.VNets))
	subnets := map[*model.Subnet]*model.Subnet{}
	nsgs := make(map[*model.NSG]*model.NSG, len(env.NSGs))
	asgs := make(map[*model.ASG]*model.ASG, len(env.ASGs))
	ipcs := map[*model.IPConfig]*model.IPConfig{}

	out.ASGs = make([]*model.ASG, len(env.ASGs))
	asgByName := make(map[string]*model.ASG, len(env.ASGs))
	for i, a := range env.ASGs {
		c := *a
		out.ASGs[i], asgs[a], asgByName[a.Name] = &c, &c, &c
	}
	// Rules of a change may name another copy's ASGs and VNets (a suggestion made on a
	// what-if estate): those resolve by name.
	asgList := func(as []*model.ASG) []*model.ASG {
		if as == nil {
			return nil
		}
		o := make([]*model.ASG, len(as))
		for i, a := range as {
			if o[i] = asgs[a]; o[i] == nil {
				o[i] = asgByName[a.Name]
			}
		}
		return o
	}
	rule := func(r *model.Rule) *model.Rule {
		if len(r.Source.ASGs) == 0 && len(r.Destination.ASGs) == 0 {
			return r
		}
		c := *r
		c.Source.ASGs, c.Destination.ASGs = asgList(r.Source.ASGs), asgList(r.Destination.ASGs)
		return &c
	}
	// Only the NSGs the estate's VMs are under, and the edited ones, are copied: an NSG holds
	// no reference back into the estate, so the others are shared as they are (in an Only
	// view, that is most of them).
	used := make(map[*model.NSG]bool, len(env.NSGs))
	for g := range ed.nsgs {
		used[g] = true
	}
	for _, vm := range env.VMs {
		for _, n := range vm.NICs {
			used[n.NSG] = true
			for _, c := range n.IPConfigs {
				if c.Subnet != nil {
					used[c.Subnet.NSG] = true
				}
			}
		}
	}
	out.NSGs = make([]*model.NSG, len(env.NSGs))
	for i, g := range env.NSGs {
		if !used[g] {
			out.NSGs[i] = g
			continue
		}
		c := *g
		rules := g.Rules
		if r, ok := ed.nsgs[g]; ok {
			rules = r
		}
		c.Rules = make([]*model.Rule, len(rules))
		for j, r := range rules {
			c.Rules[j] = rule(r)
		}
		out.NSGs[i], nsgs[g] = &c, &c
	}
	nsg := func(g *model.NSG) *model.NSG {
		if c, ok := nsgs[g]; ok {
			return c
		}
		return g
	}
	out.VNets = make([]*model.VNet, len(env.VNets))
	for i, v := range env.VNets {
		c := *v
		out.VNets[i], vnets[v] = &c, &c
	}
	for _, v := range out.VNets {
		if v.Peers != nil {
			peers := make([]*model.VNet, len(v.Peers))
			for i, p := range v.Peers {
				peers[i] = vnets[p]
			}
			v.Peers = peers
		}
		subs := make([]*model.Subnet, len(v.Subnets))
		for i, s := range v.Subnets {
			c := *s
			c.VNet, c.NSG = v, nsg(s.NSG)
			subs[i], subnets[s] = &c, &c
		}
		v.Subnets = subs
	}
	out.VMs = make([]*model.VM, len(env.VMs))
	for i, vm := range env.VMs {
		cvm := *vm
		cvm.NICs = make([]*model.NIC, len(vm.NICs))
		for j, n := range vm.NICs {
			cn := *n
			cn.VM, cn.NSG = &cvm, nsg(n.NSG)
			cn.IPConfigs = make([]*model.IPConfig, len(n.IPConfigs))
			for k, ipc := range n.IPConfigs {
				cc := *ipc
				cc.NIC, cc.ASGs = &cn, asgList(ipc.ASGs)
				if ipc.Subnet != nil {
					cc.Subnet = subnets[ipc.Subnet]
				}
				cn.IPConfigs[k], ipcs[ipc] = &cc, &cc
			}
			cvm.NICs[j] = &cn
		}
		out.VMs[i] = &cvm
	}
	for _, a := range out.ASGs {
		ms := make([]*model.IPConfig, len(a.Members))
		for i, m := range a.Members {
			if ms[i] = ipcs[m]; ms[i] == nil {
				ms[i] = m // a member outside an Only view: shared, as its VM is not in the view
			}
		}
		a.Members = ms
	}
	admins := env.AdminRules
	if ed.adminChanged {
		admins = ed.admin
	}
	out.AdminRules = make([]*model.AdminRule, len(admins))
	for i, a := range admins {
		c := *a
		if a.VNets != nil {
			c.VNets = make([]*model.VNet, len(a.VNets))
			for j, v := range a.VNets {
				if c.VNets[j] = vnets[v]; c.VNets[j] == nil {
					for _, x := range out.VNets {
						if x.Name == v.Name {
							c.VNets[j] = x
						}
					}
				}
			}
		}
		out.AdminRules[i] = &c
	}
	out.Warnings = slices.Clip(env.Warnings)
	return &out
}

// Only is env seen through the given VMs alone: compiling it evaluates their flows exactly as
// compiling env would (every VNet, NSG, ASG member and admin rule is still there), at the cost
// of those VMs only. vms must be env's.
func Only(env *model.Environment, vms []*model.VM) *model.Environment {
	out := *env
	out.VMs = vms
	return &out
}
