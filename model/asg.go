package model

import "fmt"

// checkBothASGs: a rule with ASGs as source and destination needs the members of all of them in
// one VNet (Azure: "the network interfaces in both application security groups must exist in the
// same virtual network"). An ASG's VNet is its first member's.
func (l *loader) checkBothASGs() {
	for _, b := range l.bothASGs {
		var first *ASG
		var firstKey string
		for _, side := range []struct {
			key  string
			asgs []*ASG
		}{{"source_asgs", b.rule.Source.ASGs}, {"destination_asgs", b.rule.Destination.ASGs}} {
			for _, a := range side.asgs {
				home, ok := l.asgHome[a]
				if !ok {
					continue // no members: warned about as such
				}
				if first == nil {
					first, firstKey = a, side.key
					continue
				}
				fv, v := l.asgHome[first].cfg.Subnet.VNet, home.cfg.Subnet.VNet
				if fv != v {
					// Through l: the rule's table may belong to a shadow of readNSGs.
					l.errAt(b.t.pos(side.key), b.t.resource(), fmt.Sprintf("%s: asg %q has its members in vnet %q, but asg %q (%s) has its members in vnet %q; a rule with ASGs on both sides needs all their members in one VNet",
						side.key, a.Name, v.Name, first.Name, firstKey, fv.Name))
					break
				}
			}
		}
	}
}

func (l *loader) readASG(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysASG, nil)
	if !named {
		return
	}
	a := &ASG{Name: name, Pos: t.hpos()}
	if l.asgs.define(l, name, t, a) {
		l.env.ASGs = append(l.env.ASGs, a)
	}
}
