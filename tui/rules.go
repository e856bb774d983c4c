package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
	"ipflow/tui/effective"
)

// ruleGroup is a run of rules under a heading: one layer of one direction.
type ruleGroup struct {
	direction string // "Inbound", "Outbound": a new section starts when it changes
	nsg       string // the NSG the rules are of; "" for admin rules
	label     string // the layer: "NSG web-nsg on subnet/hub/web"
	note      string // instead of rules: "no NSG is associated, so this level allows"
	rules     []*model.Rule
}

// rrowKind is what a row of a rule table shows.
type rrowKind uint8

const (
	rrSection rrowKind = iota // Inbound / Outbound
	rrLayer                   // a layer's label
	rrNote                    // a layer without rules
	rrRule
)

type rrow struct {
	kind rrowKind
	text string
	rule *model.Rule
	nsg  string // a rule's NSG ("" for admin rules), for the what-if's marks
}

// rline is one screen line of a rule table: a row, or a wrapped or expanded line of it.
type rline struct {
	row  int32
	part int32
}

// rulesScreen is a table of rules: an NSG's whole rule table (both directions, custom and
// default rules in priority order) or a NIC's effective security rules (admin rules, then the
// NSGs in evaluation order, per direction). enter expands a rule's tags and ASGs to their
// prefixes and where they come from, for the NIC the table was opened for.
type rulesScreen struct {
	c          *ctx
	nsg        string // the NSG the table shows, for hand edits in the what-if (ruleedit.go); "" else
	crumb      string
	title      string
	ex         *effective.Expander
	rows       []rrow
	open       map[int]bool // rows expanded
	lines      []rline
	linesW     int
	list       scroller
	sel        int // selected row
	nameW      int
	exp        map[int][]string // expansion text of open rows at linesW
	ruleSearch                  // / in the table, the chain's search
	// reopen makes the table again from the estate in c: after a what-if change, so that it
	// shows the changed rules (nil: nothing to remake).
	reopen func(c *ctx) *rulesScreen
}

func newRulesScreen(c *ctx, crumb, title string, ex *effective.Expander, groups []ruleGroup, focus *model.Rule) *rulesScreen {
	s := &rulesScreen{c: c, crumb: crumb, title: title, ex: ex, open: map[int]bool{}, sel: -1, nameW: 8,
		ruleSearch: newRuleSearch()}
	dir := ""
	for _, g := range groups {
		if g.direction != dir {
			dir = g.direction
			s.rows = append(s.rows, rrow{kind: rrSection, text: dir + " rules"})
		}
		if g.label != "" {
			s.rows = append(s.rows, rrow{kind: rrLayer, text: g.label})
		}
		if g.note != "" || len(g.rules) == 0 {
			note := g.note
			if note == "" {
				note = "no " + strings.ToLower(dir) + " rules"
			}
			s.rows = append(s.rows, rrow{kind: rrNote, text: note})
		}
		for _, r := range g.rules {
			if r == focus && s.sel < 0 {
				s.sel = len(s.rows)
			}
			s.rows = append(s.rows, rrow{kind: rrRule, rule: r, nsg: g.nsg})
			s.nameW = max(s.nameW, width(safe(r.Name)))
		}
	}
	s.nameW = min(s.nameW, 64)
	if s.sel < 0 {
		for i, r := range s.rows {
			if r.kind == rrRule {
				s.sel = i
				break
			}
		}
	}
	s.list.selectable = func(i int) bool { return s.lines[i].part == 0 && s.rows[s.lines[i].row].kind == rrRule }
	return s
}

func (s *rulesScreen) crumbs() []string { return []string{s.crumb} }

func (s *rulesScreen) typing() bool { return s.searching }

// setQuery applies a search to the table's rules (the chain's search: ruleSearch).
func (s *rulesScreen) setQuery(q string) {
	s.setRuleQuery(q, len(s.rows), func(i int) *model.Rule { return s.rows[i].rule })
}

// jumpMatch selects the next matching rule after row from (at it too when here) in direction d.
func (s *rulesScreen) jumpMatch(from, d int, here bool) {
	if i := s.nextMatch(from, d, here); i >= 0 {
		s.sel = i
		s.layout(max(s.linesW, 1))
		for j, l := range s.lines {
			if int(l.row) == i && l.part == 0 {
				s.list.cursor = j
				break
			}
		}
	}
}

func (s *rulesScreen) help() help.KeyMap {
	k := s.c.keys
	if s.searching {
		keep, clear := with(k.Keep, "enter", "keep search"), with(k.Clear, "esc", "clear search")
		return helpMap{short: []key.Binding{keep, clear, k.Force}, full: [][]key.Binding{{keep, clear, k.Force}}}
	}
	short := []key.Binding{with(k.Down, "↑/↓", "move"), k.Expand, k.Search, k.Back, k.Help, k.Quit}
	if s.query != "" {
		short = []key.Binding{k.NextMatch, k.PrevMatch, with(k.Back, "esc", "clear search"), k.Expand, k.Help, k.Quit}
	}
	return helpMap{
		short: short,
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Search, k.NextMatch, k.PrevMatch},
			{k.Expand, with(k.Full, "i", "rule in full"), k.Back, k.Warnings},
			{k.AddRule, k.EditRule, k.DeleteRule},
			{k.Help, k.Quit, k.Force},
		},
	}
}

func (s *rulesScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if s.takeSearchKey(m, msg, k, s, s.sel) {
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.Search):
		s.startSearch()
	case s.query != "" && key.Matches(km, k.NextMatch):
		s.jumpMatch(s.sel, 1, false)
	case s.query != "" && key.Matches(km, k.PrevMatch):
		s.jumpMatch(s.sel, -1, false)
	case key.Matches(km, k.Expand):
		if s.sel >= 0 {
			s.open[s.sel] = !s.open[s.sel]
			s.lines = nil
		}
	case key.Matches(km, k.Warnings):
		m.openWarnings()
	case key.Matches(km, k.Full):
		if s.sel >= 0 {
			// The rule whole with its tags and ASGs expanded, however small the terminal.
			r := s.rows[s.sel].rule
			m.push(newPager(s.c, "rule", func(w int) []string {
				lines := s.detail(w)[1:]
				for _, l := range s.expansion(r) {
					lines = append(lines, wrap(l, w, 4)...)
				}
				return lines
			}))
		}
	case key.Matches(km, k.AddRule), key.Matches(km, k.EditRule), key.Matches(km, k.DeleteRule):
		var r *model.Rule
		if s.sel >= 0 && !key.Matches(km, k.AddRule) {
			r = s.rows[s.sel].rule
		}
		m.openRuleEdit(s.nsg, r, key.Matches(km, k.DeleteRule))
	default:
		s.layout(max(s.linesW, m.width, 1))
		if s.list.move(km, k) && s.list.cursor >= 0 {
			s.sel = int(s.lines[s.list.cursor].row)
		}
	}
	return nil
}

// expansion is what the rule's sides hold for the NIC: one line per prefix with its origin.
func (s *rulesScreen) expansion(r *model.Rule) []string {
	if s.ex == nil {
		return []string{"this NSG applies to no NIC: its tags and ASGs hold nothing in particular here"}
	}
	e := s.ex.Rule(r)
	var out []string
	for _, side := range []struct {
		name  string
		items []effective.Item
		ports []model.PortRange
		empty string
	}{{"source", e.ExpandedSource, r.Source.Ports, e.EmptySource}, {"destination", e.ExpandedDestination, r.Destination.Ports, e.EmptyDestination}} {
		ports := model.FormatPorts(side.ports)
		if ports == "" {
			ports = "*"
		}
		out = append(out, side.name+" ("+plural(len(side.items), "prefix", "prefixes")+", ports "+ports+")")
		if len(side.items) == 0 {
			out = append(out, "  nothing: "+safe(side.empty))
		}
		for _, it := range side.items {
			line := "  " + it.Prefix.String()
			if it.From != "" {
				line = "  " + fit(it.Prefix.String(), 18) + " " + safe(it.From)
			}
			out = append(out, line)
		}
	}
	return out
}

// wrapped is row i's lines at width w: headings wrapped, a rule's expansion below it.
func (s *rulesScreen) wrapped(i, w int) []string {
	r := s.rows[i]
	switch r.kind {
	case rrSection:
		return []string{r.text}
	case rrLayer:
		return wrap(r.text, w, 2)
	case rrNote:
		return wrap(r.text, w-4, 0)
	}
	if !s.open[i] {
		return []string{""}
	}
	if e, ok := s.exp[i]; ok {
		return e
	}
	lines := []string{""}
	for _, l := range s.expansion(r.rule) {
		lines = append(lines, wrap(l, w-8, 4)...)
	}
	s.exp[i] = lines
	return lines
}

func (s *rulesScreen) layout(w int) {
	if s.lines != nil && s.linesW == w {
		return
	}
	if s.linesW != w {
		s.exp = map[int][]string{}
	}
	s.linesW = w
	s.lines = s.lines[:0]
	for i := range s.rows {
		n := len(s.wrapped(i, w))
		for p := range n {
			s.lines = append(s.lines, rline{int32(i), int32(p)})
		}
	}
	s.list.n = len(s.lines)
	s.list.cursor = -1
	for j, l := range s.lines {
		if int(l.row) == s.sel && l.part == 0 {
			s.list.cursor = j
			break
		}
	}
}

func (s *rulesScreen) columns(w int) (nameW, restW int) {
	fixed := 2 + 5 + 1 + 1 + 11 + 1 + 4 + 1
	nameW = min(s.nameW, max(w-fixed-max(24, (w-fixed)/3), 8))
	return nameW, w - fixed - nameW
}

func (s *rulesScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	lines := []string{}
	for _, l := range wrap(s.title, w, 2) {
		lines = append(lines, st.Title.Render(l))
	}
	searchLine, x := s.searchLine(st, w)
	var cur *tea.Cursor
	if s.searching {
		cur = tea.NewCursor(x, len(lines))
	}
	lines = append(lines, searchLine...)
	detail := s.detail(w)
	listH := h - len(lines) - 1 - len(detail)
	if listH < 3 {
		// No room for the whole rule: cut, and say so (i shows it in full).
		detail = detail[:max(0, len(detail)-(3-listH))]
		if n := len(detail); n > 0 {
			detail[n-1] = st.Dim.Render(trunc("… i shows the rule in full", w))
		}
		listH = h - len(lines) - 1 - len(detail)
	}
	s.layout(w)
	nameW, restW := s.columns(w)
	start, end := s.list.window(max(listH, 1))
	pos := s.list.position(start, end)
	head := trunc("  "+fitLeft("PRIO", 5)+" "+fit("RULE", nameW)+" "+fit("ACCESS", 11)+" "+fit("PROT", 4)+" SOURCE → DESTINATION", w-width(pos)-2)
	lines = append(lines, st.Header.Render(head)+strings.Repeat(" ", max(w-width(head)-width(pos), 0))+st.Dim.Render(pos))
	for i := start; i < end; i++ {
		lines = append(lines, s.line(s.lines[i], w, nameW, restW))
	}
	lines = block(lines, h-len(detail))
	return append(lines, detail...), cur
}

func (s *rulesScreen) line(l rline, w, nameW, restW int) string {
	st := s.c.st
	r := s.rows[l.row]
	text := s.wrapped(int(l.row), w)[l.part]
	switch r.kind {
	case rrSection:
		return st.Title.Render(text)
	case rrLayer:
		return st.Layer.Render(text)
	case rrNote:
		return st.Dim.Render("    " + text)
	}
	if l.part > 0 {
		return st.Dim.Render("        " + text)
	}
	rule := r.rule
	open := "▸" // enter expands; + and ~ in the next column are the what-if's marks
	if s.open[int(l.row)] {
		open = "▾"
	}
	proto := rule.Protocol.String()
	gutter, name := " ", fit(safe(rule.Name), nameW)
	if mk := s.c.changeMark(r.nsg, rule); mk != "" {
		gutter = mk // added (+) or replaced (~) by the what-if
	}
	if s.matched(int(l.row)) {
		gutter = "»" // a search match, readable without colour
		if int(l.row) != s.sel {
			name = st.Match.Render(name)
		}
	}
	line := open + gutter + fitLeft(itoa(rule.Priority), 5) + " " + name + " " +
		fit(rule.Access.String(), 11) + " " + fit(proto, 4) + " " + trunc(describeSide(rule.Source)+" → "+describeSide(rule.Destination), restW)
	if int(l.row) == s.sel {
		return st.Selected.Render(fit(line, w))
	}
	if rule.Kind == model.DefaultRule {
		return st.Dim.Render(line)
	}
	return line
}

// detail is the selected rule in full: name, where it is defined, what it says, description.
func (s *rulesScreen) detail(w int) []string {
	st := s.c.st
	if s.sel < 0 {
		return nil
	}
	r := s.rows[s.sel].rule
	lines := []string{st.Dim.Render(strings.Repeat("─", w))}
	head := safe(r.ID())
	if p := r.Pos.String(); p != "" {
		head += " · " + safe(p)
	}
	for i, l := range wrap(head, w, 2) {
		if i == 0 {
			l = st.Title.Render(l)
		}
		lines = append(lines, l)
	}
	lines = append(lines, wrap(describeRule(r), w, 2)...)
	if d := strings.TrimSpace(r.Description); d != "" {
		for _, l := range wrap("“"+safe(d)+"”", w, 1) {
			lines = append(lines, st.Dim.Render(l))
		}
	}
	return lines
}

// layerNSG is the name of a layer's NSG; "" for admin rules (and a level without an NSG).
func layerNSG(l *engine.Layer) string {
	if l == nil || l.NSG == nil || l.Kind == engine.AdminLayer {
		return ""
	}
	return l.NSG.Name
}

// openLayerTable opens the whole rule table of a layer of a verdict: an NSG, or the admin
// rules of the VNet; tags and ASGs expand as the verdict's NIC sees them.
func (m *Model) openLayerTable(res *engine.Result, lt *engine.LayerTrace, row vrow) {
	var focus *model.Rule
	if row.kind == rowRule {
		focus = lt.Rules()[row.rule]
	}
	if lt.Kind != engine.AdminLayer && lt.NSG == nil {
		m.setStatus(safe(lt.Label())+": there are no rules to show", true)
		return
	}
	on := refOf(res.IPConfig)
	var rs *rulesScreen
	if lt.Kind == engine.AdminLayer {
		rs = adminTable(m.c, on)
	} else {
		rs = nsgTable(m.c, lt.NSG.Name, on, true)
	}
	if rs == nil {
		m.setStatus(safe(lt.Label())+": there are no rules to show", true)
		return
	}
	if focus != nil {
		rs.selectRule(layerNSG(lt.Layer), focus.Name)
	}
	m.push(rs)
}

// ipcRef names an IP configuration: a what-if has its own copies of the estate's VMs, NICs and
// IP configurations, so a table made again after a change finds them by name.
type ipcRef struct{ vm, nic, ipc string }

func refOf(c *model.IPConfig) ipcRef {
	if c == nil || c.NIC == nil || c.NIC.VM == nil {
		return ipcRef{}
	}
	return ipcRef{c.NIC.VM.Name, c.NIC.Name, c.Name}
}

// in is the IP configuration r names in env; nil when there is none.
func (r ipcRef) in(env *model.Environment) *model.IPConfig {
	if n := findNIC(findVM(env, r.vm), r.nic); n != nil {
		for _, c := range n.IPConfigs {
			if c.Name == r.ipc {
				return c
			}
		}
	}
	return nil
}

// nsgTable is the whole rule table of the NSG named name in the estate of c, its tags and ASGs
// expanded as the IP configuration on sees them (none named: the first the NSG applies to); nil
// when the estate has no such NSG. editable offers hand edits (ruleedit.go). The table is made
// again the same way after each what-if change, the selected rule kept.
func nsgTable(c *ctx, name string, on ipcRef, editable bool) *rulesScreen {
	var nsg *model.NSG
	for _, g := range c.env.NSGs {
		if g.Name == name {
			nsg = g
		}
	}
	if nsg == nil {
		return nil
	}
	var ex *effective.Expander
	seenBy := ""
	if ipc := on.in(c.env); ipc != nil && ipc.Subnet != nil {
		ex, seenBy = effective.NewExpander(c.env, ipc), safe(ipc.NIC.Name)
	} else {
		ex, seenBy = expanderFor(c, nsg)
	}
	title := "NSG " + safe(nsg.Name) + " · " + plural(len(nsg.Rules), "custom rule", "custom rules") + " + 6 default"
	if seenBy != "" {
		title += " · tags as " + seenBy + " sees them"
	} else {
		title += " · attached to nothing"
	}
	rs := newRulesScreen(c, safe(nsg.Name), title, ex, nsgRuleGroups(nsg), nil)
	if editable {
		rs.nsg = nsg.Name
	}
	rs.reopen = func(c *ctx) *rulesScreen { return nsgTable(c, name, on, editable) }
	return rs
}

// adminTable is the table of the security admin rules: those that apply where the IP
// configuration on is, in the engine's order, its tags expanded as it sees them; or, with none
// named, every admin rule of the estate. Made again after each what-if change.
func adminTable(c *ctx, on ipcRef) *rulesScreen {
	var rs *rulesScreen
	if ipc := on.in(c.env); ipc != nil {
		eff, err := effective.ForNIC(c.eng, ipc.NIC, ipc)
		if err != nil || eff.IPConfig == nil {
			return nil
		}
		var gs []ruleGroup
		for _, d := range eff.Directions {
			g := ruleGroup{direction: d.Direction.String()}
			for _, l := range d.Layers {
				if l.Kind == engine.AdminLayer {
					for _, r := range l.Rules {
						g.rules = append(g.rules, r.Rule)
					}
				}
			}
			gs = append(gs, g)
		}
		title := "Security admin rules of VNet " + safe(ipc.Subnet.VNet.Name) + " · tags as " + safe(ipc.NIC.Name) + " sees them"
		rs = newRulesScreen(c, "admin rules", title, effective.NewExpander(c.env, ipc), gs, nil)
	} else {
		var gs []ruleGroup
		for _, d := range []model.Direction{model.Inbound, model.Outbound} {
			g := ruleGroup{direction: d.String()}
			for _, a := range c.env.AdminRules {
				if a.Direction == d {
					g.rules = append(g.rules, &a.Rule)
				}
			}
			gs = append(gs, g)
		}
		rs = newRulesScreen(c, "admin rules", "Security admin rules of the estate", nil, gs, nil)
	}
	rs.reopen = func(c *ctx) *rulesScreen { return adminTable(c, on) }
	return rs
}

// openEffective opens a NIC's effective security rules, in the estate now: a screen opened
// before a what-if change holds the loaded estate's VM and NIC, and the what-if has its own.
func (m *Model) openEffective(vm *model.VM, nic *model.NIC) {
	if cur := findNIC(findVM(m.c.env, vm.Name), nic.Name); cur != nil {
		nic = cur
	}
	rs, err := effectiveScreen(m.c, nic)
	if err != nil {
		m.setStatus(err.Error(), true)
		return
	}
	m.push(rs)
}

// effectiveScreen is the table of a NIC's effective security rules in the estate of c.
func effectiveScreen(c *ctx, nic *model.NIC) (*rulesScreen, error) {
	eff, err := effective.ForNIC(c.eng, nic, nil)
	if err != nil {
		return nil, errors.New(safe(err.Error()))
	}
	if eff.IPConfig == nil {
		return nil, errors.New(safe(nic.Name) + " has no IP configuration")
	}
	var gs []ruleGroup
	for _, d := range eff.Directions {
		for _, l := range d.Layers {
			g := ruleGroup{direction: d.Direction.String(), nsg: layerNSG(l.Layer), label: l.Label()}
			if l.Kind != engine.AdminLayer && l.NSG == nil {
				g.note = "no NSG is associated, so this level allows"
			}
			for _, r := range l.Rules {
				g.rules = append(g.rules, r.Rule)
			}
			gs = append(gs, g)
		}
	}
	title := "Effective security rules of " + safe(nic.Name) + " (" + safe(eff.IPConfig.Name) + " " + eff.IPConfig.PrivateIP.String() + ")"
	rs := newRulesScreen(c, "effective rules", title, effective.NewExpander(c.env, eff.IPConfig), gs, nil)
	vm, name := nic.VM.Name, nic.Name
	rs.reopen = func(c *ctx) *rulesScreen {
		if n := findNIC(findVM(c.env, vm), name); n != nil { // the what-if's own copy of the NIC
			rs, _ := effectiveScreen(c, n)
			return rs
		}
		return nil
	}
	return rs, nil
}

// selectRule selects the rule named name of the NSG nsg ("" for admin rules), if the table
// has it.
func (s *rulesScreen) selectRule(nsg, name string) {
	for i, r := range s.rows {
		if r.kind == rrRule && r.nsg == nsg && r.rule.Name == name {
			s.sel = i
			s.linesW = 0 // laid out again at the next frame, the cursor on it
			return
		}
	}
}
