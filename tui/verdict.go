package tui

import (
	"net/netip"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
)

// rowKind is what a row of the chain shows.
type rowKind uint8

const (
	rowLayer  rowKind = iota // a layer's title: admin rules, or an NSG with what it is applied to
	rowRule                  // one rule of an evaluated layer
	rowReason                // why a layer was not evaluated, or has no NSG
	rowEmpty                 // an evaluated layer without rules of the flow's direction
)

// vrow is one row of the chain. The chain of two 1000-rule NSGs has a couple of thousand
// rows; they are small, and only the rows on screen are ever drawn.
type vrow struct {
	kind  rowKind
	layer int32
	rule  int32 // index into the layer's rules of the flow's direction
}

// vline is one screen line of the chain: a row, or one wrapped line of a layer's title.
type vline struct {
	row  int32
	part int32
}

// ruleState is how far evaluation got with a rule.
type ruleState uint8

const (
	stFailed   ruleState = iota // tried; a check failed
	stMatched                   // matched, but a later layer decided (an Allow that passes on)
	stDeciding                  // the rule that decided the verdict
	stNotEval                   // after the match in its layer: not evaluated
)

// verdictScreen shows the verdict, the chain of every layer and rule in evaluation order, and
// a step panel with the five checks of the selected rule. The reverse-video bar is the cursor;
// the deciding rule keeps its ▶ and tint. n/p step through the rules tried, ]/[ jump between
// layers, / searches, x hides the rules not evaluated, r opens the rule's whole NSG.
type verdictScreen struct {
	c       *ctx
	res     *engine.Result
	rows    []vrow
	steps   []int // rows of the rules tried, in evaluation order
	decided int   // row of the deciding rule, or -1
	nameW   int
	accessW int

	lines   []vline // the chain at the last layout
	layoutW int
	hide    bool // rules not evaluated are hidden
	list    scroller
	sel     int // the selected row (a rule row when there is one), kept across layouts

	ruleSearch // / in the chain
}

func newVerdict(c *ctx, res *engine.Result) *verdictScreen {
	s := &verdictScreen{c: c, res: res, decided: -1, sel: -1, accessW: 6}
	n := 0
	for i := range res.Layers {
		if res.Layers[i].Status == engine.Evaluated {
			n += len(res.Layers[i].Rules())
		}
		n += 2
	}
	s.rows = make([]vrow, 0, n)
	for li := range res.Layers {
		lt := &res.Layers[li]
		s.rows = append(s.rows, vrow{kind: rowLayer, layer: int32(li)})
		if lt.Status == engine.NoNSG {
			continue // the title says there is no NSG
		}
		// A layer the flow never reached still lists its rules, as not evaluated: r opens its
		// NSG from any of them.
		if lt.Status == engine.Evaluated && len(lt.Rules()) == 0 {
			s.rows = append(s.rows, vrow{kind: rowEmpty, layer: int32(li)})
		}
		for ri, r := range lt.Rules() {
			row := len(s.rows)
			s.rows = append(s.rows, vrow{kind: rowRule, layer: int32(li), rule: int32(ri)})
			if ri < len(lt.Tried) {
				s.steps = append(s.steps, row)
			}
			if s.state(li, ri) == stDeciding {
				s.decided = row
			}
			s.nameW = max(s.nameW, width(safe(r.Name)))
			if r.Access == model.AlwaysAllow {
				s.accessW = 11
			}
		}
	}
	s.nameW = min(max(s.nameW, 8), 64)
	switch {
	case s.decided >= 0:
		s.sel = s.decided
	case len(s.steps) > 0:
		s.sel = s.steps[len(s.steps)-1]
	default:
		s.sel = s.nextRuleRow(-1, 1)
	}
	s.list.selectable = func(i int) bool { return s.lines[i].part == 0 && s.rows[s.lines[i].row].kind == rowRule }
	s.ruleSearch = newRuleSearch()
	return s
}

func (s *verdictScreen) crumbs() []string { return []string{"verdict"} }

func (s *verdictScreen) typing() bool { return s.searching }

func (s *verdictScreen) help() help.KeyMap {
	k := s.c.keys
	if s.searching {
		keep, clear := with(k.Keep, "enter", "keep search"), with(k.Clear, "esc", "clear search")
		return helpMap{short: []key.Binding{keep, clear, k.Force}, full: [][]key.Binding{{keep, clear, k.Force}}}
	}
	up, down := with(k.Up, "↑/k", "rule up"), with(k.Down, "↓/j", "rule down")
	short := []key.Binding{k.NextStep, k.PrevStep, k.Search, k.Table, k.Edit, k.Help, k.Quit}
	if s.query != "" {
		short = []key.Binding{k.NextMatch, k.PrevMatch, with(k.Back, "esc", "clear search"), k.Table, k.Help, k.Quit}
	}
	hide := k.NotEvaluated
	return helpMap{
		short: short,
		full: [][]key.Binding{
			{k.NextStep, k.PrevStep, k.Deciding, k.NextLayer, k.PrevLayer, with(k.Full, "i", "step in full")},
			{up, down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Search, k.NextMatch, k.PrevMatch, hide, k.Table},
			{k.Edit, k.Copy, k.CopyCmd, k.Warnings, k.Help, k.Quit},
			{k.Suggest, k.Undo, k.Changes},
		},
	}
}

func (s *verdictScreen) state(li, ri int) ruleState {
	lt := &s.res.Layers[li]
	switch {
	case ri >= len(lt.Tried):
		return stNotEval
	case ri != lt.Match:
		return stFailed
	case lt.Layer == s.res.Layer && lt.Rules()[ri] == s.res.Rule:
		return stDeciding
	}
	return stMatched
}

func (s *verdictScreen) rowState(row int) ruleState {
	r := s.rows[row]
	return s.state(int(r.layer), int(r.rule))
}

// hidden reports whether a row is hidden by x.
func (s *verdictScreen) hidden(row int) bool {
	return s.hide && s.rows[row].kind == rowRule && s.rowState(row) == stNotEval && row != s.sel
}

// nextRuleRow is the next visible rule row after row from in direction d, or from if none.
func (s *verdictScreen) nextRuleRow(from, d int) int {
	for i := from + d; i >= 0 && i < len(s.rows); i += d {
		if s.rows[i].kind == rowRule && !s.hidden(i) {
			return i
		}
	}
	return from
}

// layout builds the chain's screen lines for width w: every visible row, layer titles wrapped.
func (s *verdictScreen) layout(w int) {
	if s.lines != nil && s.layoutW == w {
		return
	}
	s.layoutW = w
	s.lines = s.lines[:0]
	for i := range s.rows {
		if s.hidden(i) {
			continue
		}
		n := 1
		if k := s.rows[i].kind; k == rowLayer || k == rowReason {
			n = len(s.wrapped(i, w))
		}
		for p := range n {
			s.lines = append(s.lines, vline{int32(i), int32(p)})
		}
	}
	s.list.n = len(s.lines)
	s.syncCursor()
}

// relayout drops the layout (after x, or a new selection that hiding depends on).
func (s *verdictScreen) relayout() { s.lines, s.layoutW = nil, 0 }

// syncCursor puts the scroller's cursor on the line of the selected row.
func (s *verdictScreen) syncCursor() {
	lo, hi := 0, len(s.lines)
	for lo < hi {
		mid := (lo + hi) / 2
		if int(s.lines[mid].row) < s.sel {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(s.lines) && int(s.lines[lo].row) == s.sel {
		s.list.cursor = lo
	} else {
		s.list.cursor = s.list.next(-1, 1)
	}
}

// selectRow selects a rule row.
func (s *verdictScreen) selectRow(row int) {
	if row < 0 || row >= len(s.rows) || s.rows[row].kind != rowRule {
		return
	}
	wasHidden := s.hide && s.rowState(s.sel) == stNotEval
	s.sel = row
	if s.hide && (wasHidden || s.rowState(row) == stNotEval) {
		s.relayout()
		return
	}
	s.syncCursor()
}

// stepIndex is the position of the selected row among the steps, or -1 if it was not tried.
func (s *verdictScreen) stepIndex() int {
	lo, hi := 0, len(s.steps)
	for lo < hi {
		mid := (lo + hi) / 2
		if s.steps[mid] < s.sel {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(s.steps) && s.steps[lo] == s.sel {
		return lo
	}
	return -1
}

// step moves to the next (d=1) or previous (d=-1) rule tried.
func (s *verdictScreen) step(d int) {
	if d > 0 {
		for _, r := range s.steps {
			if r > s.sel {
				s.selectRow(r)
				return
			}
		}
		return
	}
	for i := len(s.steps) - 1; i >= 0; i-- {
		if s.steps[i] < s.sel {
			s.selectRow(s.steps[i])
			return
		}
	}
}

// jumpLayer selects the first rule of the next (d=1) or previous (d=-1) layer with rules.
func (s *verdictScreen) jumpLayer(d int) {
	cur := int32(-1)
	if s.sel >= 0 {
		cur = s.rows[s.sel].layer
	}
	for li := int(cur) + d; li >= 0 && li < len(s.res.Layers); li += d {
		for i, r := range s.rows {
			if int(r.layer) == li && r.kind == rowRule && !s.hidden(i) {
				s.selectRow(i)
				return
			}
		}
	}
}

func (s *verdictScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if s.takeSearchKey(m, msg, k, s, s.sel) {
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Back), key.Matches(km, k.Edit):
		m.pop()
		if f, ok := m.top().(*formScreen); ok {
			f.resume()
		}
	case key.Matches(km, k.Copy):
		m.setStatus(m.copied("the verdict summary"), false)
		return tea.SetClipboard(s.copyText())
	case key.Matches(km, k.CopyCmd):
		cmds := commandLines(s.res.Flow)
		m.setStatus(m.copied("the command lines")+":\n"+cmds, false)
		return tea.SetClipboard(cmds + "\n")
	case key.Matches(km, k.Full):
		if lt, _, _, _ := s.selected(); lt != nil {
			m.push(newPager(s.c, "step", s.detail))
		}
	case key.Matches(km, k.Search):
		s.startSearch()
	case s.query != "" && key.Matches(km, k.NextMatch):
		s.jumpMatch(s.sel, 1, false)
	case s.query != "" && key.Matches(km, k.PrevMatch):
		s.jumpMatch(s.sel, -1, false)
	case key.Matches(km, k.NextStep):
		s.step(1)
	case key.Matches(km, k.PrevStep):
		s.step(-1)
	case key.Matches(km, k.Deciding):
		if s.decided >= 0 {
			s.selectRow(s.decided)
		}
	case key.Matches(km, k.NextLayer):
		s.jumpLayer(1)
	case key.Matches(km, k.PrevLayer):
		s.jumpLayer(-1)
	case key.Matches(km, k.NotEvaluated):
		s.hide = !s.hide
		s.relayout()
		if s.hide {
			m.setStatus("rules not evaluated are hidden (x shows them)", false)
		}
	case key.Matches(km, k.Table):
		if s.sel >= 0 {
			m.openLayerTable(s.res, &s.res.Layers[s.rows[s.sel].layer], s.rows[s.sel])
		}
	case key.Matches(km, k.Warnings):
		m.openWarnings()
	case key.Matches(km, k.Suggest):
		m.openSuggestions(s.res)
	case key.Matches(km, k.Undo):
		m.undo()
	case key.Matches(km, k.Changes):
		m.openChanges()
	default:
		s.layout(max(s.layoutW, m.width, 1))
		if s.list.move(km, k) && s.list.cursor >= 0 {
			s.sel = int(s.lines[s.list.cursor].row)
		}
	}
	return nil
}

// setQuery applies a search: rules whose name contains it, whose priority starts with it, or
// (for an address or a port) whose sides hold it.
func (s *verdictScreen) setQuery(q string) {
	s.setRuleQuery(q, len(s.rows), func(i int) *model.Rule {
		if r := s.rows[i]; r.kind == rowRule {
			return s.res.Layers[r.layer].Rules()[r.rule]
		}
		return nil
	})
}

// jumpMatch selects the next match after row from (at it too when here) in direction d.
func (s *verdictScreen) jumpMatch(from, d int, here bool) {
	if i := s.nextMatch(from, d, here); i >= 0 {
		s.selectRow(i)
	}
}

// copyText is the plain-text summary `y` copies: the engine's summary and its notes.
func (s *verdictScreen) copyText() string {
	out := s.res.Summary()
	for _, n := range s.res.Notes {
		out += "Note:  " + n + "\n"
	}
	return out
}

// commandLines are the command lines that ask the same question: ipflow verify and Azure's
// own az network watcher test-ip-flow (TCP and UDP only; it has no --nic for a VM's NIC by
// name, so it is given the NIC's name as --nic, as the CLI accepts).
func commandLines(f engine.Flow) string {
	ep := func(a string, p engine.Port, proto model.Protocol) string {
		if !proto.HasPorts() {
			return a
		}
		return a + ":" + p.String()
	}
	dir := strings.ToLower(f.Direction.String())
	proto := strings.ToLower(f.Protocol.FlowString())
	local, remote := ep(f.LocalIP.String(), f.LocalPort, f.Protocol), ep(f.RemoteIP.String(), f.RemotePort, f.Protocol)
	quote := func(s string) string {
		if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/*") == "" {
			return s
		}
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	ipflow := "ipflow verify --vm " + quote(safe(f.VM)) + " --nic " + quote(safe(f.NIC)) + " --direction " + dir +
		" --protocol " + proto + " --local " + quote(local) + " --remote " + quote(remote)
	az := "az network watcher test-ip-flow --vm " + quote(safe(f.VM)) + " --nic " + quote(safe(f.NIC)) +
		" --direction " + f.Direction.String() + " --protocol " + f.Protocol.FlowString() +
		" --local " + quote(local) + " --remote " + quote(remote)
	if !f.Protocol.HasPorts() {
		az = "# az network watcher test-ip-flow takes only TCP and UDP"
	}
	return ipflow + "\n" + az
}

func (s *verdictScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	var cur *tea.Cursor
	banner := s.banner(w)
	searchLine, x := s.searchLine(st, w)
	if s.searching {
		cur = tea.NewCursor(x, len(banner))
	}
	// The step panel in full when it fits beside three lines of chain, else in two lines; then
	// the banner gives up its notes, the target, the layer and the rule, never the flow.
	const chainMin = 3
	detail := s.detail(w)
	for len(banner)+len(searchLine)+chainMin+len(detail) > h {
		if c := s.compactDetail(w); len(c) < len(detail) {
			detail = c
			continue
		}
		b, ok := dropBannerLine(banner)
		if !ok {
			break
		}
		banner = b
	}
	chainH := h - len(banner) - len(searchLine) - len(detail)
	if chainH < 2 {
		// No room for the whole panel: cut, and say so (i shows the step in full).
		detail = detail[:max(0, len(detail)+chainH-2)]
		if n := len(detail); n > 0 {
			detail[n-1] = st.Dim.Render(trunc("… i shows the step in full", w))
		}
		chainH = 2
	}
	if cur != nil {
		cur.Y = len(banner)
	}
	lines := make([]string, 0, h)
	for _, l := range banner {
		for _, tag := range []string{bannerNote, bannerTarget, bannerNSG, bannerRule} {
			l = strings.TrimPrefix(l, tag)
		}
		lines = append(lines, l)
	}
	lines = append(lines, searchLine...)
	lines = append(lines, s.chain(w, chainH)...)
	lines = append(lines, detail...)
	return lines, cur
}

// bannerLine is one line of the banner with its kind, so short terminals drop the least useful.
const (
	bannerNote   = "\x00note"
	bannerTarget = "\x00target"
	bannerNSG    = "\x00nsg"
	bannerRule   = "\x00rule"
)

// dropBannerLine drops the notes, else the target, else the layer, else the rule lines
// (never part of one: what is shown is whole); ok is false when only the verdict and the flow
// are left.
func dropBannerLine(b []string) (out []string, ok bool) {
	for _, tag := range []string{bannerNote, bannerTarget, bannerNSG, bannerRule} {
		out = b[:0:0]
		for _, l := range b {
			if !strings.HasPrefix(l, tag) {
				out = append(out, l)
			}
		}
		if len(out) < len(b) {
			return out, true
		}
	}
	return b, false
}

// banner is the verdict in words and symbols, the deciding rule, its NSG and the flow, each
// wrapped, never cut. Lines that short terminals may drop carry a tag, removed by chain.
func (s *verdictScreen) banner(w int) []string {
	st := s.c.st
	r := s.res
	var head string
	if r.Access == model.Deny {
		head = st.DenyBanner.Render(" ✗ " + r.Headline() + " ")
	} else {
		head = st.AllowBanner.Render(" ✓ " + r.Headline() + " ")
	}
	lines := []string{head}
	add := func(label, text, tag string, style func(...string) string) {
		for i, l := range wrap(text, w-6, 0) {
			prefix := "      "
			if i == 0 {
				prefix = st.Label.Render(fit(label, 6))
			}
			lines = append(lines, tag+prefix+style(l))
		}
	}
	plain := func(s ...string) string { return strings.Join(s, "") }
	if r.Rule != nil {
		add("Rule", r.RuleLine(), bannerRule, st.Title.Render)
	} else {
		add("Rule", r.RuleLine(), bannerRule, plain)
	}
	if l := r.Layer; l != nil {
		add("Layer", l.Label(), bannerNSG, plain)
	}
	add("Flow", r.Flow.String(), "", plain)
	for _, l := range wrap("on "+r.Target(), w-6, 0) {
		lines = append(lines, bannerTarget+"      "+st.Dim.Render(l))
	}
	for _, n := range r.Notes {
		add("Note", safe(n), bannerNote, st.Warn.Render)
	}
	return lines
}

// wrapped is a layer title or a reason row wrapped to w.
func (s *verdictScreen) wrapped(row, w int) []string {
	r := s.rows[row]
	lt := &s.res.Layers[r.layer]
	if r.kind == rowReason {
		return wrap(safe(lt.Reason), w-4, 0)
	}
	return wrap(lt.Title(), w, 2)
}

// chain draws the column heading and h-1 lines of the chain around the selected rule.
func (s *verdictScreen) chain(w, h int) []string {
	st := s.c.st
	s.layout(w)
	s.syncCursor()
	nameW, resW := s.columns(w)
	heading := "    " + fitLeft("PRIO", 5) + " " + fit("RULE", nameW) + " " + fit("ACCESS", s.accessW) + " RESULT"
	listH := max(h-1, 0)
	start, end := s.list.window(listH)
	lines := make([]string, 0, h)
	pos := s.list.position(start, end)
	heading = trunc(heading, w-width(pos)-2)
	lines = append(lines, st.Header.Render(heading)+strings.Repeat(" ", max(w-width(heading)-width(pos), 0))+st.Dim.Render(pos))
	for i := start; i < end; i++ {
		lines = append(lines, s.line(s.lines[i], w, nameW, resW))
	}
	return block(lines, h)
}

// columns are the widths of the rule name and result columns for a width w: the name column
// grows with the terminal (names of 64 characters fit whole from 120 columns).
func (s *verdictScreen) columns(w int) (nameW, resW int) {
	fixed := 4 + 5 + 1 + 1 + s.accessW + 1 // gutter+mark, priority, gaps, access
	minRes := max(24, (w-fixed)/3)
	nameW = min(s.nameW, max(w-fixed-minRes, 8))
	return nameW, w - fixed - nameW
}

func (s *verdictScreen) line(l vline, w, nameW, resW int) string {
	st := s.c.st
	r := s.rows[l.row]
	lt := &s.res.Layers[r.layer]
	switch r.kind {
	case rowLayer:
		t := s.wrapped(int(l.row), w)[l.part]
		if l.part == 0 {
			return st.Layer.Render(t)
		}
		return st.Dim.Render(t)
	case rowReason:
		return st.Dim.Render("    " + s.wrapped(int(l.row), w)[l.part])
	case rowEmpty:
		return st.Dim.Render(trunc("    no "+strings.ToLower(s.res.Flow.Direction.String())+" rules here", w))
	}
	ri := int(r.rule)
	rule := lt.Rules()[ri]
	state := s.state(int(r.layer), ri)
	sel := int(l.row) == s.sel
	var mark, result string
	switch state {
	case stFailed:
		c := lt.Check(ri)
		mark = "✗"
		f, _ := c.Fields.FirstFailed()
		result = safe(s.res.Why(c, f))
	case stMatched:
		mark = "✓"
		result = safe(s.res.Reason(lt.Check(ri)))
	case stDeciding:
		mark = "▶"
		result = "decides: " + safe(s.res.Reason(lt.Check(ri)))
	default:
		mark = "·"
		result = "not evaluated"
	}
	gutter := " "
	if mk := s.c.ruleMark(lt.Layer, rule); mk != "" {
		gutter = mk // added (+) or replaced (~) by the what-if
	}
	if s.matched(int(l.row)) {
		gutter = "»" // a search match, readable without colour
	}
	prio := fitLeft(itoa(rule.Priority), 5)
	name := fit(safe(rule.Name), nameW)
	access := fit(rule.Access.String(), s.accessW)
	res := trunc(shorten(result), resW)
	plain := gutter + " " + mark + " " + prio + " " + name + " " + access + " " + res
	plainGutter := gutter
	if sel {
		// The cursor: the reverse-video bar, tinted when it is on the deciding rule.
		switch {
		case state == stDeciding && rule.Access == model.Deny:
			return st.DecidingDen.Render(fit(plain, w))
		case state == stDeciding:
			return st.Deciding.Render(fit(plain, w))
		}
		return st.Selected.Render(fit(plain, w))
	}
	if s.matched(int(l.row)) {
		name = st.Match.Render(name)
		gutter = st.Match.Render(gutter)
	}
	switch state {
	case stDeciding:
		tint := st.Allow
		if rule.Access == model.Deny {
			tint = st.Deny
		}
		return gutter + " " + tint.Bold(true).Render(mark+" "+prio+" ") + tint.Bold(true).Render(name) + " " + tint.Bold(true).Render(access) + " " + tint.Render(res)
	case stNotEval:
		return gutter + st.Faint.Render(strings.TrimRight(strings.TrimPrefix(plain, plainGutter), " "))
	}
	markS := st.Fail.Render(mark)
	if state == stMatched {
		markS = st.Pass.Render(mark)
		name = st.Matched.Render(name)
	}
	accS := st.Allow.Render(access)
	if rule.Access == model.Deny {
		accS = st.Deny.Render(access)
	}
	return gutter + " " + markS + " " + prio + " " + name + " " + accS + " " + st.Dim.Render(res)
}

// selected returns the selected rule, its layer, and its check when it was tried.
func (s *verdictScreen) selected() (lt *engine.LayerTrace, rule *model.Rule, ri int, check *engine.RuleCheck) {
	if s.sel < 0 || s.sel >= len(s.rows) || s.rows[s.sel].kind != rowRule {
		return nil, nil, 0, nil
	}
	r := s.rows[s.sel]
	lt = &s.res.Layers[r.layer]
	ri = int(r.rule)
	rule = lt.Rules()[ri]
	if ri < len(lt.Tried) {
		c := lt.Check(ri)
		check = &c
	}
	return lt, rule, ri, check
}

// stepTitle is "Step 3 of 9" or "Not evaluated".
func (s *verdictScreen) stepTitle() string {
	if i := s.stepIndex(); i >= 0 {
		return "Step " + itoa(i+1) + " of " + itoa(len(s.steps))
	}
	return "Not evaluated"
}

// detail is the full step panel: the step, the layer, the rule's full name, what it says, its
// description, every check with its reason and the outcome, all wrapped, nothing cut.
func (s *verdictScreen) detail(w int) []string {
	st := s.c.st
	lt, rule, ri, check := s.selected()
	if lt == nil {
		return nil
	}
	// "── Step 3 of 9 · NSG web-nsg on subnet/hub/web ──", the layer's label wrapped if long.
	title := wrap("── "+s.stepTitle()+" · "+lt.Label()+" ", w, 3)
	last := len(title) - 1
	title[last] += strings.Repeat("─", max(w-width(title[last]), 0))
	var lines []string
	for _, l := range title {
		lines = append(lines, st.Title.Render(l))
	}
	first := true
	for _, l := range wrap(safe(rule.Name)+" · "+describeRule(rule), w, 2) {
		if first {
			l = st.Title.Render(l)
			first = false
		}
		lines = append(lines, l)
	}
	if d := strings.TrimSpace(rule.Description); d != "" {
		for _, l := range wrap("“"+safe(d)+"”", w-2, 0) {
			lines = append(lines, "  "+st.Dim.Render(l))
		}
	}
	if check == nil {
		m := lt.Matched()
		why := "not evaluated: an earlier rule in this layer matched first"
		switch {
		case lt.Status != engine.Evaluated:
			why = safe(lt.Reason)
		case m != nil:
			why = "not evaluated: " + safe(m.Name) + " (priority " + itoa(m.Priority) + ") matched first and decided this layer"
		}
		for _, l := range wrap("· "+why, w, 2) {
			lines = append(lines, st.Faint.Render(l))
		}
		return lines
	}
	for f := range engine.FieldCount {
		mark := st.Pass.Render("✓ ")
		if !check.Fields.Has(f) {
			mark = st.Fail.Render("✗ ")
		}
		for j, l := range wrap(safe(s.res.Why(*check, f)), w-4, 2) {
			if j == 0 {
				lines = append(lines, "  "+mark+l)
			} else {
				lines = append(lines, "    "+l)
			}
		}
	}
	lines = append(lines, s.outcome(lt, ri, check, w)...)
	return lines
}

// outcome says what the selected rule did to the evaluation, wrapped to w.
func (s *verdictScreen) outcome(lt *engine.LayerTrace, ri int, check *engine.RuleCheck, w int) []string {
	st := s.c.st
	li := s.rows[s.sel].layer
	var mark, text string
	switch s.state(int(li), ri) {
	case stFailed:
		f, _ := check.Fields.FirstFailed()
		mark, text = st.Fail.Render("✗ no match"), " on "+f.String()+": evaluation goes on with the next rule"
	case stDeciding:
		word := st.AllowBanner.Render(" ✓ " + s.res.Headline() + " ")
		if s.res.Access == model.Deny {
			word = st.DenyBanner.Render(" ✗ " + s.res.Headline() + " ")
		}
		return []string{st.Matched.Render("▶ matches: this rule decides ") + word}
	case stMatched:
		next := "the next layer"
		for j := int(li) + 1; j < len(s.res.Layers); j++ {
			if n := &s.res.Layers[j]; n.Status != engine.NotReached {
				next = n.Label()
				break
			}
		}
		mark, text = st.Pass.Render("✓ matches:"), " this NSG allows; next: "+next
		if lt.Kind == engine.AdminLayer {
			text = " the admin rule allows and lets the NSGs decide"
		}
	default:
		return nil
	}
	out := wrap(ansiPlaceholder(mark)+text, w, 2)
	out[0] = mark + strings.TrimPrefix(out[0], ansiPlaceholder(mark))
	return out
}

// ansiPlaceholder is a plain stand-in of the same width as a styled string, to wrap around it.
func ansiPlaceholder(styled string) string { return strings.Repeat("#", width(styled)) }

// compactDetail is the step panel in two lines, for short terminals: the step and the rule's
// name, then the five checks and the reason.
func (s *verdictScreen) compactDetail(w int) []string {
	st := s.c.st
	lt, rule, _, check := s.selected()
	if lt == nil {
		return nil
	}
	// Wrapped, never cut: the rule's full name is on screen whatever the chain's column shows.
	var lines []string
	for _, l := range wrap(s.stepTitle()+" · "+safe(rule.Name), w, 2) {
		lines = append(lines, st.Title.Render(l))
	}
	if check == nil {
		for _, l := range wrap("· not evaluated: an earlier rule matched first · i: in full", w, 2) {
			lines = append(lines, st.Faint.Render(l))
		}
		return lines
	}
	short := [engine.FieldCount]string{"proto", "src", "sport", "dst", "dport"}
	var marks []string
	for f := range engine.FieldCount {
		if check.Fields.Has(f) {
			marks = append(marks, st.Pass.Render("✓")+short[f])
		} else {
			marks = append(marks, st.Fail.Render("✗")+short[f])
		}
	}
	second := strings.Join(marks, " ") + "  " + safe(s.res.Reason(*check)) + " · i: in full"
	return append(lines, wrap(second, w, 2)...)
}

// describeRule is "priority 100 · Allow · Tcp · Internet:* → *:443, 8000-8080".
func describeRule(r *model.Rule) string {
	return "priority " + itoa(r.Priority) + " · " + r.Access.String() + " · " + r.Protocol.String() + " · " +
		describeSide(r.Source) + " → " + describeSide(r.Destination)
}

func describeSide(sd model.Side) string {
	var items []string
	if len(sd.ASGs) > 0 {
		for _, a := range sd.ASGs {
			items = append(items, "ASG "+safe(a.Name))
		}
	} else {
		for _, a := range sd.Addresses {
			items = append(items, safe(a.String()))
		}
	}
	addr := strings.Join(items, ", ")
	if len(items) > 1 {
		addr = "[" + addr + "]"
	}
	ports := model.FormatPorts(sd.Ports)
	if ports == "" {
		ports = "*"
	}
	return addr + ":" + ports
}

// shortener abbreviates reasons in the chain's narrow column: "dst port 123 is not in 443".
// The step panel below it has them in full.
var shortener = strings.NewReplacer("destination", "dst", "source", "src", "protocol", "proto")

func shorten(s string) string { return shortener.Replace(s) }

// ruleMatcher is a search in rules: a name substring, a priority prefix, an address held by a
// side (10.0.1.4 is in 10.0.0.0/16) or a port held by a side.
type ruleMatcher struct {
	q    string
	addr model.Address
	ip   bool
	port int
}

func newRuleMatcher(q string) ruleMatcher {
	m := ruleMatcher{q: q, port: -1}
	if a, err := model.ParseIP(q); err == nil {
		m.addr, m.ip = model.Address{Kind: model.PrefixAddress, Prefix: netip.PrefixFrom(a, 32)}, true
	}
	if p, err := strconv.Atoi(q); err == nil && p >= 0 && p <= 65535 {
		m.port = p
	}
	return m
}

func (m ruleMatcher) match(r *model.Rule) bool {
	if strings.Contains(strings.ToLower(r.Name), m.q) || strings.HasPrefix(itoa(r.Priority), m.q) {
		return true
	}
	for _, sd := range [2]model.Side{r.Source, r.Destination} {
		if m.port >= 0 {
			for _, pr := range sd.Ports {
				if int(pr.Lo) <= m.port && m.port <= int(pr.Hi) && !(pr.Lo == 0 && pr.Hi == 65535) {
					return true
				}
			}
		}
		for _, a := range sd.Addresses {
			if m.ip && a.Kind == model.PrefixAddress && a.Prefix.Contains(m.addr.Prefix.Addr()) {
				return true
			}
			if strings.Contains(strings.ToLower(a.String()), m.q) {
				return true
			}
		}
		for _, a := range sd.ASGs {
			if strings.Contains(strings.ToLower(a.Name), m.q) {
				return true
			}
		}
	}
	return false
}
