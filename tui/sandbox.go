package tui

import (
	"fmt"
	"os"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
	"ipflow/suggest"
	"ipflow/whatif"
)

// This file holds the what-if sandbox: f on a verdict lists the changes that reverse it
// (package suggest) with their blast radius; enter applies one to a copy of the estate, and
// every screen then answers from that copy, under a WHAT-IF header. u undoes the last change,
// v lists the changes, x there exports them (the TOML to a file, the az commands to the
// clipboard), and quitting with changes asks first. The loaded estate never changes.

// sandbox is the what-if in effect: the loaded estate and the steps applied to it, in order.
type sandbox struct {
	base  *engine.Engine
	steps []sandboxStep
	// quitArmed: q was pressed once with changes; the next q quits.
	quitArmed bool
}

// sandboxStep is one applied suggestion (or change set), undone as a whole.
type sandboxStep struct {
	what    string
	changes []whatif.Change
}

func (sb *sandbox) changes() []whatif.Change {
	var out []whatif.Change
	for _, st := range sb.steps {
		out = append(out, st.changes...)
	}
	return out
}

// inSandbox reports whether a what-if is in effect.
func (c *ctx) inSandbox() bool { return c.sb != nil && len(c.sb.steps) > 0 }

// applyStep applies a step on top of the sandbox (starting one), recompiles and refreshes the
// verdicts on the stack.
func (m *Model) applyStep(st sandboxStep) error {
	c := m.c
	if c.sb == nil {
		c.sb = &sandbox{base: c.eng}
	}
	steps := append(c.sb.steps[:len(c.sb.steps):len(c.sb.steps)], st)
	if err := m.rebuild(steps); err != nil {
		if len(c.sb.steps) == 0 {
			c.sb = nil
		}
		return err
	}
	return nil
}

// rebuild makes the estate of steps current: the loaded one when there are none.
func (m *Model) rebuild(steps []sandboxStep) error {
	c := m.c
	eng := c.sb.base
	if len(steps) > 0 {
		var all []whatif.Change
		for _, st := range steps {
			all = append(all, st.changes...)
		}
		env, err := whatif.Apply(c.sb.base.Environment(), all)
		if err != nil {
			return err
		}
		eng = engine.CompileWithBase(c.sb.base, env) // what the changes leave as it was is shared
	}
	c.sb.steps, c.sb.quitArmed = steps, false
	c.eng, c.env, c.an = eng, eng.Environment(), nil
	if len(steps) == 0 {
		c.sb = nil
	}
	// Verdicts and rule tables on the stack are of the old estate: evaluate their flows again,
	// and make the tables again (the selected rule stays selected).
	for i, s := range m.stack {
		switch s := s.(type) {
		case *verdictScreen:
			if res, err := c.eng.Verify(s.res.Flow); err == nil {
				m.stack[i] = newVerdict(c, res)
			}
		case *rulesScreen:
			if s.reopen == nil {
				continue
			}
			if ns := s.reopen(c); ns != nil {
				if s.sel >= 0 && s.sel < len(s.rows) && s.rows[s.sel].kind == rrRule {
					ns.selectRule(s.rows[s.sel].nsg, s.rows[s.sel].rule.Name)
				}
				m.stack[i] = ns
			}
		}
	}
	return nil
}

// undo takes the last step back.
func (m *Model) undo() {
	if !m.c.inSandbox() {
		m.setStatus("no what-if change to undo", true)
		return
	}
	steps := m.c.sb.steps
	last := steps[len(steps)-1]
	if err := m.rebuild(steps[:len(steps)-1]); err != nil {
		m.setStatus(safe(err.Error()), true)
		return
	}
	m.setStatus("undone: "+last.what, false)
}

// whatIfTag is the header's mark of a what-if: " WHAT-IF · 2 changes ".
func (m Model) whatIfTag() string {
	if !m.c.inSandbox() {
		return ""
	}
	n := len(m.c.sb.changes())
	return "  " + m.c.st.WhatIf.Render(" WHAT-IF · "+plural(n, "change", "changes")+" ")
}

// ruleMark is changeMark for a rule of a layer of a verdict.
func (c *ctx) ruleMark(l *engine.Layer, r *model.Rule) string {
	if l == nil {
		return ""
	}
	return c.changeMark(layerNSG(l), r)
}

// changeMark is + for a rule the what-if added and ~ for one it replaced, of NSG nsg ("" for
// an admin rule); "" else.
func (c *ctx) changeMark(nsg string, r *model.Rule) string {
	if !c.inSandbox() || r == nil || r.Kind == model.DefaultRule {
		return ""
	}
	admin := r.Kind == model.AdminRuleKind
	mark := ""
	for _, ch := range c.sb.changes() {
		if ch.Name != r.Name || ch.IsAdmin() != admin || (!admin && (nsg == "" || ch.NSG != nsg)) {
			continue
		}
		switch {
		case ch.Op == whatif.Add:
			mark = "+"
		case ch.Op == whatif.Replace && mark == "":
			mark = "~"
		}
	}
	return mark
}

// quitKey decides whether q quits: with what-if changes, the first q asks.
func (m *Model) quitKey() bool {
	sb := m.c.sb
	if !m.c.inSandbox() || sb.quitArmed {
		return true
	}
	sb.quitArmed = true
	m.setStatus("the what-if has "+plural(len(sb.changes()), "change", "changes")+" that quitting throws away: q again to quit, v then x to export them first", true)
	return false
}

// suggestionsScreen lists the changes that reverse a verdict, with their blast radius.
type suggestionsScreen struct {
	c     *ctx
	res   *engine.Result
	r     *suggest.Result
	list  scroller
	lines []sline
	w     int
}

type sline struct {
	text string
	item int // the suggestion, or -1 for a line of notes
	head bool
}

func newSuggestions(c *ctx, res *engine.Result) (*suggestionsScreen, error) {
	r, err := suggest.For(c.eng, res.Flow)
	if err != nil {
		return nil, err
	}
	return suggestionsOf(c, res, r), nil
}

func suggestionsOf(c *ctx, res *engine.Result, r *suggest.Result) *suggestionsScreen {
	s := &suggestionsScreen{c: c, res: res, r: r}
	s.list.selectable = func(i int) bool { return s.lines[i].head }
	return s
}

func (s *suggestionsScreen) crumbs() []string { return []string{"fix it"} }
func (s *suggestionsScreen) typing() bool     { return false }

func (s *suggestionsScreen) help() help.KeyMap {
	k := s.c.keys
	apply := with(k.Select, "enter", "apply in the what-if")
	return helpMap{short: []key.Binding{apply, k.Up, k.Down, k.Back, k.Help, k.Quit},
		full: [][]key.Binding{{apply, k.Up, k.Down, k.PageUp, k.PageDown}, {k.Back, k.Help, k.Quit}}}
}

// layout writes each suggestion: its summary, then its blast radius, box by box.
func (s *suggestionsScreen) layout(w int) {
	if s.w == w && s.lines != nil {
		return
	}
	s.w = w
	s.lines = nil
	want := "allow"
	if s.r.Want == model.Deny {
		want = "deny"
	}
	title := fmt.Sprintf("%s to %s %s", plural(len(s.r.Suggestions), "way", "ways"), want, safe(s.res.Flow.String()))
	s.lines = append(s.lines, sline{text: title, item: -1})
	for _, n := range s.r.Notes {
		for _, l := range wrap("note: "+n, w, 2) {
			s.lines = append(s.lines, sline{text: l, item: -1})
		}
	}
	for i, sg := range s.r.Suggestions {
		head := fmt.Sprintf("%d. %s: %s", i+1, sg.Kind, sg.Summary)
		for j, l := range wrap(head, w, 3) {
			s.lines = append(s.lines, sline{text: l, item: i, head: j == 0})
		}
		if sg.Admin {
			for _, l := range wrap("   ADMIN RULE CHANGE: "+sg.AdminWhy, w, 5) {
				s.lines = append(s.lines, sline{text: l, item: i})
			}
		}
		boxes := 0
		for _, n := range sg.Blast {
			boxes += len(n.Changes)
		}
		s.lines = append(s.lines, sline{text: fmt.Sprintf("   blast radius: %s flows in %s", thousands(sg.Flows.String()), plural(boxes, "box", "boxes")), item: i})
		for _, n := range sg.Blast {
			for _, ch := range n.Changes {
				verb := "re-decides"
				switch {
				case ch.Before.Access == model.Deny && ch.After.Access != model.Deny:
					verb = "opens"
				case ch.Before.Access != model.Deny && ch.After.Access == model.Deny:
					verb = "closes"
				}
				remote := ch.Remote.String()
				if ps := ch.Remote.Prefixes(); len(ps) > 3 {
					remote = ps[0].String() + ", " + ps[1].String() + " … (" + itoa(len(ps)) + " prefixes)"
				}
				ports := ""
				if ch.Protocols.Has(model.TCP) || ch.Protocols.Has(model.UDP) {
					ports = " ports " + ch.LocalPorts.String()
					if n.Direction == model.Outbound {
						ports = " ports " + ch.RemotePorts.String()
					}
				}
				c := n.After.IPConfig()
				line := fmt.Sprintf("     %s %s %s%s on %s (%s)", verb, ch.Protocols, remote, ports, safe(c.NIC.VM.Name), c.PrivateIP)
				s.lines = append(s.lines, sline{text: trunc(line, w), item: i})
			}
		}
	}
	s.list.reset(len(s.lines))
	s.list.set(s.list.next(-1, 1))
}

func thousands(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *suggestionsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := s.c.keys
	s.layout(max(s.w, m.width, 1))
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.Select):
		if s.list.cursor < 0 || s.lines[s.list.cursor].item < 0 {
			return nil
		}
		sg := s.r.Suggestions[s.lines[s.list.cursor].item]
		m.pop()
		if err := m.applyStep(sandboxStep{what: sg.Summary, changes: sg.Changes}); err != nil {
			m.setStatus(safe(err.Error()), true)
			return nil
		}
		m.setStatus("applied in the what-if: "+sg.Summary+" (u undoes, v lists the changes)", false)
	default:
		s.list.move(km, k)
	}
	return nil
}

func (s *suggestionsScreen) view(w, h int) ([]string, *tea.Cursor) {
	s.layout(w)
	st := s.c.st
	start, end := s.list.window(h)
	out := make([]string, 0, h)
	for i := start; i < end; i++ {
		l := s.lines[i]
		switch {
		case l.head && i == s.list.cursor:
			out = append(out, st.Selected.Render(fit(l.text, w)))
		case l.head:
			out = append(out, st.Title.Render(l.text))
		case l.item < 0:
			out = append(out, st.Dim.Render(l.text))
		default:
			out = append(out, l.text)
		}
	}
	return out, nil
}

// changesScreen lists the what-if's changes as a change set, with the az commands; x exports.
type changesScreen struct {
	c     *ctx
	list  scroller
	lines []string
}

func newChanges(c *ctx) *changesScreen {
	s := &changesScreen{c: c}
	for _, st := range c.sb.steps {
		s.lines = append(s.lines, "· "+st.what)
	}
	s.lines = append(s.lines, "", "Change set (ipflow … --what-if FILE):")
	for _, l := range strings.Split(strings.TrimRight(whatif.Format(c.sb.changes()), "\n"), "\n") {
		s.lines = append(s.lines, "  "+safe(l))
	}
	s.lines = append(s.lines, "", "Azure CLI:")
	for _, l := range whatif.AzCommands(c.sb.base.Environment(), c.sb.changes()) {
		s.lines = append(s.lines, "  "+l)
	}
	s.list.reset(len(s.lines))
	return s
}

func (s *changesScreen) crumbs() []string { return []string{"what-if changes"} }
func (s *changesScreen) typing() bool     { return false }

func (s *changesScreen) help() help.KeyMap {
	k := s.c.keys
	return helpMap{short: []key.Binding{k.Export, k.Undo, k.Up, k.Down, k.Back, k.Help, k.Quit},
		full: [][]key.Binding{{k.Export, k.Undo}, {k.Up, k.Down, k.PageUp, k.PageDown}, {k.Back, k.Help, k.Quit}}}
}

func (s *changesScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := s.c.keys
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.Undo):
		m.undo()
		m.pop()
		if m.c.inSandbox() {
			m.push(newChanges(m.c))
		}
	case key.Matches(km, k.Export):
		return m.export()
	default:
		s.list.move(km, k)
	}
	return nil
}

func (s *changesScreen) view(w, h int) ([]string, *tea.Cursor) {
	start, end := s.list.window(h)
	out := make([]string, 0, h)
	for i := start; i < end; i++ {
		out = append(out, trunc(s.lines[i], w))
	}
	return out, nil
}

// export writes the change set to a new file in the temporary directory, shows its path, and
// copies the az commands.
func (m *Model) export() tea.Cmd {
	sb := m.c.sb
	if !m.c.inSandbox() {
		return nil
	}
	f, err := os.CreateTemp("", "ipflow-what-if-*.toml")
	if err == nil {
		_, err = f.WriteString(whatif.Format(sb.changes()))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		m.setStatus("export failed: "+safe(err.Error()), true)
		return nil
	}
	az := strings.Join(whatif.AzCommands(sb.base.Environment(), sb.changes()), "\n")
	m.setStatus("wrote the change set to "+safe(f.Name())+" (ipflow --what-if "+safe(f.Name())+"); "+
		"s"+strings.TrimPrefix(m.copied("the az commands"), "S"), false)
	return tea.SetClipboard(az + "\n")
}

// openSuggestions is f on a verdict.
func (m *Model) openSuggestions(res *engine.Result) {
	s, err := newSuggestions(m.c, res)
	if err != nil {
		m.setStatus(safe(err.Error()), true)
		return
	}
	m.push(s)
}

// openChanges is v: the what-if's changes.
func (m *Model) openChanges() {
	if !m.c.inSandbox() {
		m.setStatus("no what-if in effect: f on a verdict suggests changes", true)
		return
	}
	m.push(newChanges(m.c))
}

// startWhatIf applies change-set files given on the command line (ipflow --what-if FILE) as
// the sandbox's first step.
func (m *Model) startWhatIf(srcs []model.Source) {
	if len(srcs) == 0 {
		return
	}
	set, err := whatif.Load(m.c.eng.Environment(), srcs...)
	if err != nil {
		m.setStatus(safe(err.Error()), true)
		return
	}
	names := make([]string, len(set.Files))
	for i, f := range set.Files {
		names[i] = safe(f)
	}
	if err := m.applyStep(sandboxStep{what: "change set " + strings.Join(names, ", "), changes: set.Changes}); err != nil {
		m.setStatus(safe(err.Error()), true)
	}
}
