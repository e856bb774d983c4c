package whatif

import (
	"fmt"
	"strconv"

	"ipflow/internal/tomlw"
	"ipflow/model"
)

// Op is what a change does.
type Op uint8

const (
	Add Op = iota
	Replace
	Remove
)

var opNames = []string{"add", "replace", "remove"}

func (o Op) String() string { return opNames[o] }

// Change is one change of a change set: a rule added, replaced or removed in an NSG, or among
// the security admin rules.
type Change struct {
	Op Op
	// NSG is the NSG changed; empty for an admin rule change.
	NSG string
	// Name is the rule's name.
	Name string
	// Rule is the new definition for Add and Replace of an NSG rule.
	Rule *model.Rule
	// Admin is the new definition for Add and Replace of an admin rule; for Remove of an admin
	// rule it is non-nil with only the name set.
	Admin *model.AdminRule
	// Pos is the [[change]] header, when the change was read from a file.
	Pos model.Pos
}

// IsAdmin reports whether the change is to a security admin rule.
func (c *Change) IsAdmin() bool { return c.NSG == "" }

// What is "add rule "x" to nsg "y"" (names made printable).
func (c *Change) What() string {
	if c.IsAdmin() {
		switch c.Op {
		case Add:
			return fmt.Sprintf("add admin rule %s", quoted(c.Name))
		case Replace:
			return fmt.Sprintf("replace admin rule %s", quoted(c.Name))
		}
		return fmt.Sprintf("remove admin rule %s", quoted(c.Name))
	}
	switch c.Op {
	case Add:
		return fmt.Sprintf("add rule %s to nsg %s", quoted(c.Name), quoted(c.NSG))
	case Replace:
		return fmt.Sprintf("replace rule %s in nsg %s", quoted(c.Name), quoted(c.NSG))
	}
	return fmt.Sprintf("remove rule %s from nsg %s", quoted(c.Name), quoted(c.NSG))
}

func quoted(s string) string { return model.Printable(strconv.Quote(s)) }

// Format writes changes as a change-set file, the format Load reads.
func Format(changes []Change) string {
	w := tomlw.New(512 * (len(changes) + 1))
	for i, c := range changes {
		if i > 0 {
			w.Line("", "")
		}
		w.Line("", "[[change]]")
		w.Str("", "op", c.Op.String())
		if c.IsAdmin() {
			w.Str("", "admin_rule", c.Name)
		} else {
			w.Str("", "nsg", c.NSG)
		}
		switch {
		case c.Op == Remove && !c.IsAdmin():
			w.Str("", "name", c.Name)
		case c.Op == Remove:
		case c.IsAdmin():
			w.Line("  ", "[change.rule]")
			writeRule(w, &c.Admin.Rule)
			if c.Admin.VNets != nil {
				names := make([]string, len(c.Admin.VNets))
				for i, v := range c.Admin.VNets {
					names[i] = v.Name
				}
				w.List("  ", "vnets", names)
			}
			if c.Admin.ResourceGroup != "" {
				w.Str("  ", "resource_group", c.Admin.ResourceGroup)
			}
		default:
			w.Line("  ", "[change.rule]")
			writeRule(w, c.Rule)
		}
	}
	return string(w.Bytes())
}

// writeRule writes a rule's keys as in [[nsg.rule]].
func writeRule(w *tomlw.Writer, r *model.Rule) {
	w.Str("  ", "name", r.Name)
	w.Int("  ", "priority", r.Priority)
	w.Str("  ", "direction", r.Direction.String())
	w.Str("  ", "access", r.Access.String())
	w.Str("  ", "protocol", r.Protocol.String())
	for _, side := range []struct {
		key string
		s   model.Side
	}{{"source", r.Source}, {"destination", r.Destination}} {
		if len(side.s.ASGs) > 0 {
			names := make([]string, len(side.s.ASGs))
			for i, a := range side.s.ASGs {
				names[i] = a.Name
			}
			w.List("  ", side.key+"_asgs", names)
		} else {
			w.StrOrList("  ", side.key, addressStrings(side.s.Addresses))
		}
		w.StrOrList("  ", side.key+"_ports", portStrings(side.s.Ports))
	}
	if r.Description != "" {
		w.Str("  ", "description", r.Description)
	}
}

func addressStrings(as []model.Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func portStrings(ps []model.PortRange) []string {
	if len(ps) == 0 {
		return []string{"*"}
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
