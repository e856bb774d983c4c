package model

import "fmt"

func (l *loader) readAdminRule(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysAdminRule, hintsAdminRule)
	r, ok := l.readRule(t, name, named, true)
	a := &AdminRule{Rule: *r}
	a.ResourceGroup, _ = t.str("resource_group", optional)
	a.VNets = l.readAdminVNets(t)
	if named && l.adminRules.define(l, name, t, a) {
		l.env.AdminRules = append(l.env.AdminRules, a)
		if ok {
			l.adminPrio = append(l.adminPrio, adminPrio{a, t.pos("priority"), t})
		}
	}
}

// readAdminVNets reads an admin rule's vnets: nil (every VNet) when absent.
func (l *loader) readAdminVNets(t *tab) []*VNet {
	names, present, _ := t.strs("vnets")
	if !present {
		return nil
	}
	var out []*VNet
	if len(names) == 0 {
		if isEmptyArray(t.m["vnets"]) {
			t.errf("vnets", "vnets: empty; leave vnets out to apply the rule to every VNet")
		}
	} else {
		out = make([]*VNet, 0, len(names))
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
			out = append(out, v)
		}
	}
	return out
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
