package whatif

import (
	"fmt"
	"strconv"
	"strings"

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
	var b strings.Builder
	for i, c := range changes {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("[[change]]\n")
		fmt.Fprintf(&b, "op = %s\n", tomlString(c.Op.String()))
		if c.IsAdmin() {
			fmt.Fprintf(&b, "admin_rule = %s\n", tomlString(c.Name))
		} else {
			fmt.Fprintf(&b, "nsg = %s\n", tomlString(c.NSG))
		}
		switch {
		case c.Op == Remove && !c.IsAdmin():
			fmt.Fprintf(&b, "name = %s\n", tomlString(c.Name))
		case c.Op == Remove:
		case c.IsAdmin():
			b.WriteString("  [change.rule]\n")
			writeRule(&b, &c.Admin.Rule)
			if c.Admin.VNets != nil {
				names := make([]string, len(c.Admin.VNets))
				for i, v := range c.Admin.VNets {
					names[i] = v.Name
				}
				fmt.Fprintf(&b, "  vnets = %s\n", tomlList(names))
			}
			if c.Admin.ResourceGroup != "" {
				fmt.Fprintf(&b, "  resource_group = %s\n", tomlString(c.Admin.ResourceGroup))
			}
		default:
			b.WriteString("  [change.rule]\n")
			writeRule(&b, c.Rule)
		}
	}
	return b.String()
}

// writeRule writes a rule's keys as in [[nsg.rule]].
func writeRule(b *strings.Builder, r *model.Rule) {
	fmt.Fprintf(b, "  name = %s\n", tomlString(r.Name))
	fmt.Fprintf(b, "  priority = %d\n", r.Priority)
	fmt.Fprintf(b, "  direction = %s\n", tomlString(r.Direction.String()))
	fmt.Fprintf(b, "  access = %s\n", tomlString(r.Access.String()))
	fmt.Fprintf(b, "  protocol = %s\n", tomlString(r.Protocol.String()))
	for _, side := range []struct {
		key string
		s   model.Side
	}{{"source", r.Source}, {"destination", r.Destination}} {
		if len(side.s.ASGs) > 0 {
			names := make([]string, len(side.s.ASGs))
			for i, a := range side.s.ASGs {
				names[i] = a.Name
			}
			fmt.Fprintf(b, "  %s_asgs = %s\n", side.key, tomlList(names))
		} else {
			fmt.Fprintf(b, "  %s = %s\n", side.key, tomlOneOrList(addressStrings(side.s.Addresses)))
		}
		fmt.Fprintf(b, "  %s_ports = %s\n", side.key, tomlOneOrList(portStrings(side.s.Ports)))
	}
	if r.Description != "" {
		fmt.Fprintf(b, "  description = %s\n", tomlString(r.Description))
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

func tomlOneOrList(items []string) string {
	if len(items) == 1 {
		return tomlString(items[0])
	}
	return tomlList(items)
}

func tomlList(items []string) string {
	qs := make([]string, len(items))
	for i, s := range items {
		qs[i] = tomlString(s)
	}
	return "[" + strings.Join(qs, ", ") + "]"
}

// tomlString is a TOML basic string: quotes, backslashes and control characters escaped.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
