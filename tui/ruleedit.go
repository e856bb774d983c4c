package tui

import (
	"errors"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/internal/tomlw"
	"ipflow/model"
	"ipflow/whatif"
)

// This file holds the hand edits of the what-if sandbox: on an NSG's rule table, a adds a
// rule, e edits the selected one and D deletes it. The form's values become a change set and
// are read by the change-set reader (package whatif, the fixture loader underneath), so a
// value is valid here exactly when it would be in a fixture; each error shows beside its field.

// ruleField is one field of the rule form: the key of [[nsg.rule]] it writes.
type ruleField struct {
	key, label, hint string
	list             bool // a comma-separated list
	array            bool // a list always written as an array (the key takes no single string)
	num              bool // an integer
}

var ruleFields = []ruleField{
	{key: "name", label: "Name", hint: "letters, digits, _ . -"},
	{key: "priority", label: "Priority", hint: "100..4096, unique per direction", num: true},
	{key: "direction", label: "Direction", hint: "Inbound or Outbound"},
	{key: "access", label: "Access", hint: "Allow or Deny"},
	{key: "protocol", label: "Protocol", hint: "Tcp, Udp, Icmp, Esp, Ah or *"},
	{key: "source", label: "Source", hint: "*, IPs, CIDRs (a, b) or a service tag", list: true},
	{key: "source_asgs", label: "Source ASGs", hint: "ASG names (a, b), instead of Source", list: true, array: true},
	{key: "source_ports", label: "Source ports", hint: "*, N, N-M (a, b)", list: true},
	{key: "destination", label: "Destination", hint: "*, IPs, CIDRs (a, b) or a service tag", list: true},
	{key: "destination_asgs", label: "Dest. ASGs", hint: "ASG names (a, b), instead of Destination", list: true, array: true},
	{key: "destination_ports", label: "Dest. ports", hint: "*, N, N-M (a, b)", list: true},
}

// ruleEditScreen is the form that adds a rule to an NSG or replaces one.
type ruleEditScreen struct {
	c      *ctx
	nsg    string
	op     whatif.Op
	orig   string // the rule replaced
	fields []input
	errs   []string // per field, from the change-set reader
	other  string   // an error no field holds
	focus  int
}

func newRuleEdit(c *ctx, nsg string, r *model.Rule) *ruleEditScreen {
	s := &ruleEditScreen{c: c, nsg: nsg, op: whatif.Add, fields: make([]input, len(ruleFields)), errs: make([]string, len(ruleFields))}
	vals := []string{"", "", "Inbound", "Allow", "Tcp", "*", "", "*", "*", "", ""}
	if r != nil {
		s.op, s.orig = whatif.Replace, r.Name
		// A side is addresses or ASGs: the form shows both fields, one of them empty.
		addrs := func(sd model.Side) string {
			parts := make([]string, len(sd.Addresses))
			for i, a := range sd.Addresses {
				parts[i] = a.String()
			}
			return strings.Join(parts, ", ")
		}
		asgs := func(sd model.Side) string {
			names := make([]string, len(sd.ASGs))
			for i, a := range sd.ASGs {
				names[i] = a.Name
			}
			return strings.Join(names, ", ")
		}
		vals = []string{r.Name, itoa(r.Priority), r.Direction.String(), r.Access.String(), r.Protocol.String(),
			addrs(r.Source), asgs(r.Source), model.FormatPorts(r.Source.Ports),
			addrs(r.Destination), asgs(r.Destination), model.FormatPorts(r.Destination.Ports)}
	}
	for i, f := range ruleFields {
		s.fields[i] = input{placeholder: f.hint, limit: 400}
		s.fields[i].SetValue(vals[i])
	}
	s.fields[0].Focus()
	return s
}

func (s *ruleEditScreen) crumbs() []string {
	if s.op == whatif.Add {
		return []string{"add rule"}
	}
	return []string{"edit " + safe(s.orig)}
}

func (s *ruleEditScreen) typing() bool { return true }

func (s *ruleEditScreen) help() help.KeyMap {
	k := s.c.keys
	apply := with(k.Check, "enter", "apply in the what-if")
	return helpMap{short: []key.Binding{k.NextField, k.PrevField, apply, k.Back, k.FormQuit},
		full: [][]key.Binding{{k.NextField, k.PrevField, apply, k.Back, k.FormQuit}}}
}

// changeSet writes the form as a change set, and which line holds which field.
func (s *ruleEditScreen) changeSet() (string, map[int]int) {
	w := tomlw.New(512)
	w.Line("", "[[change]]")
	w.Str("", "op", s.op.String())
	w.Str("", "nsg", s.nsg)
	w.Line("", "[change.rule]")
	lines := map[int]int{}
	for i, f := range ruleFields {
		v := strings.TrimSpace(s.fields[i].Value())
		if v == "" {
			continue
		}
		lines[5+len(lines)] = i
		switch {
		case f.num:
			if n, err := strconv.Atoi(v); err == nil {
				w.Int("", f.key, n)
			} else {
				w.Str("", f.key, v)
			}
		case f.list:
			var items []string
			for _, it := range strings.Split(v, ",") {
				items = append(items, strings.TrimSpace(it))
			}
			if f.array {
				w.List("", f.key, items)
			} else {
				w.StrOrList("", f.key, items)
			}
		default:
			w.Str("", f.key, v)
		}
	}
	return string(w.Bytes()), lines
}

// apply reads the form through the change-set reader and applies it in the sandbox.
func (s *ruleEditScreen) apply(m *Model) {
	text, lines := s.changeSet()
	for i := range s.errs {
		s.errs[i] = ""
	}
	s.other = ""
	set, err := whatif.Load(s.c.env, model.Source{Name: "form", Data: []byte(text)})
	if err != nil {
		var le *model.LoadError
		if !errors.As(err, &le) {
			s.other = safe(err.Error())
			return
		}
		for _, is := range le.Errors {
			if i, ok := lines[is.Pos.Line]; ok && s.errs[i] == "" {
				s.errs[i] = safe(is.Message)
				continue
			}
			if s.other == "" {
				s.other = safe(is.Message)
			}
		}
		m.setStatus("the rule is not valid: see the fields marked ✗", true)
		return
	}
	for _, ch := range set.Changes {
		if ch.Rule != nil {
			ch.Rule.Pos = model.Pos{} // made in the form, not in a file: no file:line to show
		}
	}
	what := "add " + safe(set.Changes[0].Name) + " to nsg " + safe(s.nsg) + " (by hand)"
	if s.op == whatif.Replace {
		what = "edit " + safe(s.orig) + " in nsg " + safe(s.nsg) + " (by hand)"
	}
	if err := m.applyStep(sandboxStep{what: what, changes: set.Changes}); err != nil {
		s.other = safe(err.Error())
		return
	}
	m.pop()
	if rs, ok := m.top().(*rulesScreen); ok { // made again by the step, with the change marked
		rs.selectRule(s.nsg, set.Changes[0].Name)
	}
	m.setStatus("applied in the what-if: "+what+" (u undoes)", false)
}

func (s *ruleEditScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Back):
			m.pop()
			return nil
		case key.Matches(km, k.Check):
			s.apply(m)
			return nil
		case key.Matches(km, k.NextField), key.Matches(km, k.PrevField):
			d := 1
			if key.Matches(km, k.PrevField) {
				d = len(ruleFields) - 1
			}
			s.fields[s.focus].Blur()
			s.focus = (s.focus + d) % len(ruleFields)
			s.fields[s.focus].Focus()
			s.fields[s.focus].SelectAll()
			return nil
		}
	}
	s.fields[s.focus].Update(msg, k)
	return nil
}

func (s *ruleEditScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	title := "Add a rule to NSG " + safe(s.nsg) + " in the what-if"
	if s.op == whatif.Replace {
		title = "Edit rule " + safe(s.orig) + " of NSG " + safe(s.nsg) + " in the what-if"
	}
	out := []string{st.Title.Render(trunc(title, w)), ""}
	const labelW = 14
	var cur *tea.Cursor
	for i, f := range ruleFields {
		label := fit(f.label, labelW)
		mark := "  "
		if i == s.focus {
			mark = "▶ "
			label = st.Focus.Render(label)
		} else {
			label = st.Label.Render(label)
		}
		fieldW := max(w-labelW-2, 1)
		v, x := s.fields[i].View(fieldW, st.Choice, st.Faint)
		if i == s.focus {
			cur = tea.NewCursor(2+labelW+x, len(out))
		}
		out = append(out, mark+label+v)
		if s.errs[i] != "" {
			out = append(out, st.Err.Render(trunc("    ✗ "+s.errs[i], w)))
		}
	}
	if s.other != "" {
		out = append(out, "")
		for _, l := range wrap("✗ "+s.other, w, 2) {
			out = append(out, st.Err.Render(l))
		}
	}
	out = append(out, "", st.Dim.Render(trunc("Values as in a fixture's [[nsg.rule]]; lists are comma-separated.", w)))
	if len(out) > h {
		// A short terminal shows the window of fields that holds the focus, never cuts it off.
		start := 0
		if cur != nil && cur.Y >= h {
			start = cur.Y - h + 1
			cur.Y -= start
		}
		out = out[start : start+h]
	}
	return out, cur
}

// openRuleEdit is a (add), e (edit) and D (delete) on an NSG's rule table.
func (m *Model) openRuleEdit(nsg string, r *model.Rule, del bool) {
	switch {
	case nsg == "":
		m.setStatus("hand edits change NSG rules: open an NSG's table (r on a verdict)", true)
	case r != nil && r.Kind != model.CustomRule:
		m.setStatus("Azure's default rules cannot be changed: add a rule before them", true)
	case del && r != nil:
		what := "delete " + safe(r.Name) + " from nsg " + safe(nsg) + " (by hand)"
		if err := m.applyStep(sandboxStep{what: what, changes: []whatif.Change{{Op: whatif.Remove, NSG: nsg, Name: r.Name}}}); err != nil {
			m.setStatus(safe(err.Error()), true)
			return
		}
		m.setStatus("applied in the what-if: "+what+" (u undoes)", false)
	case del:
	default:
		m.push(newRuleEdit(m.c, nsg, r))
	}
}
