package whatif

import (
	"fmt"
	"strings"

	"ipflow/model"
)

// Known keys of a [[change]] table.
var keysChange = []string{"op", "nsg", "admin_rule", "name", "rule"}

// Set is a change set applied to an estate: the changes in order and the estate they make.
type Set struct {
	Changes []Change
	// Files are the change-set files read, in order.
	Files []string
	// Before is the estate the changes apply to; After is the new estate.
	Before, After *model.Environment
}

// Load reads change-set files and applies their changes, in order, to env. Every change that
// does not apply (an unknown NSG or rule, an add of a name that exists, a priority clash) is
// an error at the change's line; on any error it returns a *model.LoadError with all of them.
// env is not modified.
func Load(env *model.Environment, srcs ...model.Source) (*Set, error) {
	doc := model.ReadDocument(srcs...)
	doc.Bind(env)
	st := newState(env)
	set := &Set{Before: env}
	for _, s := range srcs {
		set.Files = append(set.Files, s.Name)
	}
	for _, root := range doc.Roots() {
		root.Unknown([]string{"change"}, map[string]string{
			"rule": "a rule belongs to a change: write [change.rule] after its [[change]]",
			"nsg":  "nsg belongs to a change: write it after [[change]]",
			"op":   "op belongs to a change: write it after [[change]]",
		})
		for _, t := range root.Tables("change", "change", "change") {
			if c, ok := st.read(doc, t); ok {
				set.Changes = append(set.Changes, c)
			}
		}
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	set.After = rebuild(env, st.edits())
	return set, nil
}

// Apply applies changes (made by code, such as suggestions) to env and returns the new
// estate; an error names the first change that does not apply.
func Apply(env *model.Environment, changes []Change) (*model.Environment, error) {
	st := newState(env)
	for i := range changes {
		if msg, _ := st.apply(&changes[i]); msg != "" {
			return nil, fmt.Errorf("change %d (%s): %s", i+1, changes[i].What(), msg)
		}
	}
	return rebuild(env, st.edits()), nil
}

// state is the rules as the changes so far leave them.
type state struct {
	env     *model.Environment
	rules   map[*model.NSG][]*model.Rule // the NSGs changed so far
	admin   []*model.AdminRule
	adminCh bool
}

func newState(env *model.Environment) *state {
	return &state{env: env, rules: map[*model.NSG][]*model.Rule{}, admin: env.AdminRules}
}

// nsg is env's NSG of that name. A search, not a map: a change set names a few NSGs, and a
// what-if of a large estate is made often (each suggestion, each sandbox step).
func (s *state) nsg(name string) (*model.NSG, bool) {
	for _, g := range s.env.NSGs {
		if g.Name == name {
			return g, true
		}
	}
	return nil, false
}

func (s *state) edits() *edits {
	return &edits{nsgs: s.rules, admin: s.admin, adminChanged: s.adminCh}
}

func (s *state) rulesOf(g *model.NSG) []*model.Rule {
	if rs, ok := s.rules[g]; ok {
		return rs
	}
	return g.Rules
}

// read reads one [[change]] and applies it to the state; problems are recorded in doc.
func (s *state) read(doc *model.Document, t *model.Table) (Change, bool) {
	t.Unknown(keysChange, nil)
	var c Change
	c.Pos = t.HeaderPos()
	op, ok := t.Str("op", "add, replace or remove")
	if !ok {
		return c, false
	}
	switch strings.ToLower(op) {
	case "add":
		c.Op = Add
	case "replace":
		c.Op = Replace
	case "remove":
		c.Op = Remove
	default:
		msg := fmt.Sprintf("op %q: must be add, replace or remove", op)
		if sug := model.Suggest(strings.ToLower(op), opNames); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
		t.Errorf("op", "%s", msg)
		return c, false
	}
	nsgName, hasNSG := t.Str("nsg", "")
	adminName, hasAdmin := t.Str("admin_rule", "")
	switch {
	case hasNSG && hasAdmin:
		t.Errorf("admin_rule", "nsg and admin_rule are exclusive: a change is to an NSG's rule or to a security admin rule")
		return c, false
	case !hasNSG && !hasAdmin:
		if !t.Has("nsg") && !t.Has("admin_rule") {
			t.Errorf("op", "missing nsg (the NSG whose rule changes) or admin_rule (the security admin rule that changes)")
		}
		return c, false
	}
	if hasNSG {
		c.NSG = nsgName
		if _, known := s.nsg(nsgName); !known {
			names := make([]string, len(s.env.NSGs))
			for i, g := range s.env.NSGs {
				names[i] = g.Name
			}
			t.Errorf("nsg", "nsg: %s", doc.NoSuch("nsg", nsgName, names))
			return c, false
		}
	}
	rt := t.Table("rule", "change.rule")
	switch {
	case c.Op == Remove && rt != nil:
		t.Errorf("rule", "remove takes no [change.rule]: name the rule with name = \"...\"")
		return c, false
	case c.Op != Remove && rt == nil:
		if !t.Has("rule") {
			t.Errorf("op", "%s needs the rule: write [change.rule] with the keys of [[nsg.rule]]", c.Op)
		}
		return c, false
	}
	if c.Op == Remove {
		if hasAdmin {
			c.Name = adminName
			if t.Has("name") {
				t.Errorf("name", "an admin rule is named by admin_rule; leave name out")
				return c, false
			}
		} else if c.Name, ok = t.Str("name", "the name of the rule to remove"); !ok {
			return c, false
		}
	} else if t.Has("name") {
		t.Errorf("name", "name: the rule's name goes in [change.rule]")
		return c, false
	}
	if rt != nil {
		if hasAdmin {
			if !rt.Has("name") {
				rt.Errorf("name", "missing name: write name = %q (the admin_rule of this change)", adminName)
				return c, false
			}
			a, ok := rt.AdminRule()
			if !ok {
				return c, false
			}
			if a.Name != adminName {
				rt.Errorf("name", "name %q: must be the change's admin_rule %q", a.Name, adminName)
				return c, false
			}
			a.Pos = rt.HeaderPos()
			c.Admin, c.Name = a, a.Name
		} else {
			r, ok := rt.NSGRule()
			if !ok {
				return c, false
			}
			r.Pos = rt.HeaderPos()
			c.Rule, c.Name = r, r.Name
		}
	} else if hasAdmin {
		c.Admin = &model.AdminRule{Rule: model.Rule{Name: adminName, Kind: model.AdminRuleKind}}
	}
	if msg, key := s.apply(&c); msg != "" {
		// Say it where the offending value is written.
		switch {
		case key == "priority" || (key == "name" && rt != nil):
			rt.Errorf(key, "%s", msg)
		case key == "name" && hasAdmin:
			t.Errorf("admin_rule", "%s", msg)
		case key == "name":
			t.Errorf("name", "%s", msg)
		default:
			t.Errorf(key, "%s", msg)
		}
		return c, false
	}
	return c, true
}

// apply applies one change to the state, or says why it does not apply and which key of the
// change is at fault (name, priority or nsg).
func (s *state) apply(c *Change) (msg, key string) {
	if c.IsAdmin() {
		return s.applyAdmin(c)
	}
	g, ok := s.nsg(c.NSG)
	if !ok {
		return "no nsg named " + quoted(c.NSG), "nsg"
	}
	rules := s.rulesOf(g)
	at := -1
	var names []string
	for i, r := range rules {
		names = append(names, r.Name)
		if strings.EqualFold(r.Name, c.Name) {
			at = i
		}
	}
	switch c.Op {
	case Add:
		if at >= 0 {
			return fmt.Sprintf("rule %s already exists in nsg %s%s; use op = \"replace\" to change it", quoted(rules[at].Name), quoted(c.NSG), where(rules[at].Pos)), "name"
		}
		if len(rules) >= model.MaxRulesPerNSG {
			return fmt.Sprintf("nsg %s already has %d rules; Azure allows at most %d custom rules per NSG", quoted(c.NSG), len(rules), model.MaxRulesPerNSG), "nsg"
		}
	case Replace, Remove:
		if at < 0 || rules[at].Name != c.Name {
			msg := fmt.Sprintf("nsg %s has no rule named %s", quoted(c.NSG), quoted(c.Name))
			if at >= 0 {
				return msg + fmt.Sprintf("; did you mean %s? (rule names are case-insensitive in Azure, but a change must name the rule exactly)", quoted(rules[at].Name)), "name"
			}
			if sug := model.Suggest(c.Name, names); sug != "" {
				msg += fmt.Sprintf("; did you mean %s?", quoted(sug))
			}
			return msg, "name"
		}
	}
	if c.Op != Remove {
		for i, r := range rules {
			if i != at && r.Direction == c.Rule.Direction && r.Priority == c.Rule.Priority {
				return fmt.Sprintf("priority %d clashes with rule %s%s in nsg %s: Rules cannot have the same Priority and Direction (%s)",
					c.Rule.Priority, quoted(r.Name), where(r.Pos), quoted(c.NSG), r.Direction), "priority"
			}
		}
	}
	next := make([]*model.Rule, 0, len(rules)+1)
	for i, r := range rules {
		switch {
		case i != at:
			next = append(next, r)
		case c.Op == Replace:
			next = append(next, c.Rule)
		}
	}
	if c.Op == Add {
		next = append(next, c.Rule)
	}
	s.rules[g] = next
	return "", ""
}

func (s *state) applyAdmin(c *Change) (msg, key string) {
	at := -1
	var names []string
	for i, a := range s.admin {
		names = append(names, a.Name)
		if strings.EqualFold(a.Name, c.Name) {
			at = i
		}
	}
	switch c.Op {
	case Add:
		if at >= 0 {
			return fmt.Sprintf("admin rule %s already exists%s; use op = \"replace\" to change it", quoted(s.admin[at].Name), where(s.admin[at].Pos)), "name"
		}
	case Replace, Remove:
		if at < 0 || s.admin[at].Name != c.Name {
			msg := "no admin rule named " + quoted(c.Name)
			switch {
			case at >= 0:
				msg += fmt.Sprintf("; did you mean %s?", quoted(s.admin[at].Name))
			case len(names) == 0:
				msg += " (the estate has no security admin rules)"
			default:
				if sug := model.Suggest(c.Name, names); sug != "" {
					msg += fmt.Sprintf("; did you mean %s?", quoted(sug))
				}
			}
			return msg, "name"
		}
	}
	if c.Op != Remove {
		for i, a := range s.admin {
			if i != at && a.Direction == c.Admin.Direction && a.Priority == c.Admin.Priority && overlap(a.VNets, c.Admin.VNets) {
				return fmt.Sprintf("priority %d clashes with admin rule %s%s, which applies to a common VNet: Rules cannot have the same Priority and Direction (%s)",
					c.Admin.Priority, quoted(a.Name), where(a.Pos), a.Direction), "priority"
			}
		}
	}
	next := make([]*model.AdminRule, 0, len(s.admin)+1)
	for i, a := range s.admin {
		switch {
		case i != at:
			next = append(next, a)
		case c.Op == Replace:
			next = append(next, c.Admin)
		}
	}
	if c.Op == Add {
		next = append(next, c.Admin)
	}
	s.admin, s.adminCh = next, true
	return "", ""
}

// overlap reports whether two admin rules' VNet lists (nil: every VNet) share a VNet.
func overlap(a, b []*model.VNet) bool {
	if a == nil || b == nil {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func where(p model.Pos) string {
	if s := p.String(); s != "" {
		return " (" + model.Printable(s) + ")"
	}
	return ""
}
