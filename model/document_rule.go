package model

import "strings"

// Reading security rules from other TOML formats (what-if change sets) with the fixture
// format's keys and checks, resolved against an estate already loaded.

// Bind makes the document's rule reads resolve service tags, ASGs and VNets against env, as the
// fixtures that built env would have.
func (d *Document) Bind(env *Environment) {
	l := d.l
	for name := range env.ServiceTags {
		if _, ok := l.tags[strings.ToLower(name)]; !ok {
			l.tags[strings.ToLower(name)] = name
			l.tagNames = append(l.tagNames, name)
		}
	}
	for _, a := range env.ASGs {
		l.asgs.add(a.Name, a.Pos, a)
	}
	for _, v := range env.VNets {
		l.vnets.add(v.Name, v.Pos, v)
	}
}

// Table reads a single table written [header] (or inline); nil when key is absent or not a
// table (which is reported).
func (t *Table) Table(key, header string) *Table {
	c := t.t.table(key, header)
	if c == nil {
		return nil
	}
	return &Table{c}
}

// Int reads an integer; a non-empty want makes the key required and says what it takes.
func (t *Table) Int(key, want string) (int64, bool) { return t.t.integer(key, want) }

// NSGRule reads t as an [[nsg.rule]] table: every key and check of the fixture format. ok is
// false when anything in it was reported.
func (t *Table) NSGRule() (r *Rule, ok bool) {
	t.asRule()
	l, before := t.t.l, len(t.t.l.errs)
	name, named := l.readName(t.t)
	t.t.unknown(keysRule, hintsRule)
	r, _ = l.readRule(t.t, name, named, false)
	return r, len(l.errs) == before
}

// AdminRule reads t as an [[admin_rule]] table, like NSGRule.
func (t *Table) AdminRule() (a *AdminRule, ok bool) {
	t.asRule()
	l, before := t.t.l, len(t.t.l.errs)
	name, named := l.readName(t.t)
	t.t.unknown(keysAdminRule, hintsAdminRule)
	r, _ := l.readRule(t.t, name, named, true)
	a = &AdminRule{Rule: *r}
	a.ResourceGroup, _ = t.t.str("resource_group", optional)
	a.VNets = l.readAdminVNets(t.t)
	return a, len(l.errs) == before
}

// NoSuch words an unknown reference to a kind of resource, suggesting a close name among
// candidates ("no nsg named "x"; did you mean "y"?").
func (d *Document) NoSuch(kind, name string, candidates []string) string {
	return d.l.noSuch(kind, name, candidates)
}

// asRule makes a single [parent.rule] table a rule below its parent in messages.
func (t *Table) asRule() {
	if t.t.kind == "" {
		t.t.kind, t.t.res = "rule", ""
	}
}
