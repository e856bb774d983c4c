package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
)

// rowKind is what a line of the chain shows.
type rowKind uint8

const (
	rowLayer  rowKind = iota // a layer's heading: admin rules, or an NSG with what it is applied to
	rowRule                  // one rule of an evaluated layer
	rowReason                // why a layer was not evaluated, or has no NSG
	rowEmpty                 // an evaluated layer without rules of the flow's direction
)

// vrow is one line of the chain. The chain of two 1000-rule NSGs has a couple of thousand
// rows; they are small, and only the rows on screen are ever drawn.
type vrow struct {
	kind  rowKind
	layer int32
	rule  int32 // index into the layer's rules of the flow's direction
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
// a step panel with the five checks of the selected rule. n/p step through the rules tried.
type verdictScreen struct {
	c       *ctx
	res     *engine.Result
	rows    []vrow
	steps   []int // rows of the rules tried, in evaluation order
	sel     int   // selected row (always a rule row when there is one)
	decided int   // row of the deciding rule, or -1
	offset  int
	pageH   int
	nameW   int
	accessW int
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
		if lt.Status != engine.Evaluated {
			s.rows = append(s.rows, vrow{kind: rowReason, layer: int32(li)})
			continue
		}
		if len(lt.Rules()) == 0 {
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
			s.nameW = max(s.nameW, len(r.Name))
			if r.Access == model.AlwaysAllow {
				s.accessW = 11
			}
		}
	}
	s.nameW = min(max(s.nameW, 8), 40)
	switch {
	case s.decided >= 0:
		s.sel = s.decided
	case len(s.steps) > 0:
		s.sel = s.steps[len(s.steps)-1]
	default:
		s.sel = s.nextRule(-1, 1)
	}
	return s
}

func (s *verdictScreen) crumbs() []string { return []string{"verdict"} }

func (s *verdictScreen) typing() bool { return false }

func (s *verdictScreen) help() help.KeyMap {
	k := s.c.keys
	up, down := k.Up, k.Down
	up.SetHelp("↑/k", "rule up")
	down.SetHelp("↓/j", "rule down")
	jump := key.NewBinding(key.WithKeys("d", "enter"), key.WithHelp("d/enter", "deciding rule"))
	return helpMap{
		short: []key.Binding{k.NextStep, k.PrevStep, k.Edit, k.Copy, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.NextStep, k.PrevStep, jump},
			{up, down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Edit, k.Copy, k.Help, k.Quit, k.Force},
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

// nextRule is the next rule row after row from in direction d (1 or -1), or from if none.
func (s *verdictScreen) nextRule(from, d int) int {
	for i := from + d; i >= 0 && i < len(s.rows); i += d {
		if s.rows[i].kind == rowRule {
			return i
		}
	}
	return from
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
	if len(s.steps) == 0 {
		return
	}
	if d > 0 {
		for _, r := range s.steps {
			if r > s.sel {
				s.sel = r
				return
			}
		}
		return
	}
	for i := len(s.steps) - 1; i >= 0; i-- {
		if s.steps[i] < s.sel {
			s.sel = s.steps[i]
			return
		}
	}
}

func (s *verdictScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || s.sel < 0 {
		if ok && (key.Matches(km, s.c.keys.Back) || key.Matches(km, s.c.keys.Edit)) {
			m.pop()
		}
		return nil
	}
	k := s.c.keys
	page := max(s.pageH-1, 1)
	switch {
	case key.Matches(km, k.Back), key.Matches(km, k.Edit):
		m.pop()
	case key.Matches(km, k.Copy):
		m.setStatus("Copied the verdict summary (OSC 52; in tmux: set -s set-clipboard on)", false)
		return tea.SetClipboard(s.copyText())
	case key.Matches(km, k.NextStep):
		s.step(1)
	case key.Matches(km, k.PrevStep):
		s.step(-1)
	case km.String() == "d" || km.String() == "enter":
		if s.decided >= 0 {
			s.sel = s.decided
		}
	case key.Matches(km, k.Up):
		s.sel = s.nextRule(s.sel, -1)
	case key.Matches(km, k.Down):
		s.sel = s.nextRule(s.sel, 1)
	case key.Matches(km, k.PageUp):
		for range page {
			s.sel = s.nextRule(s.sel, -1)
		}
	case key.Matches(km, k.PageDown):
		for range page {
			s.sel = s.nextRule(s.sel, 1)
		}
	case key.Matches(km, k.Top):
		s.sel = s.nextRule(-1, 1)
		s.offset = 0
	case key.Matches(km, k.Bottom):
		s.sel = s.nextRule(len(s.rows), -1)
	}
	return nil
}

// copyText is the plain-text summary `y` copies: the engine's summary and its notes.
func (s *verdictScreen) copyText() string {
	out := s.res.Summary()
	for _, n := range s.res.Notes {
		out += "Note:  " + n + "\n"
	}
	return out
}

func (s *verdictScreen) view(w, h int) ([]string, *tea.Cursor) {
	banner := s.banner(w)
	// The step panel: full (title, rule, five checks, outcome) when there is room, else two lines.
	var detail []string
	chainMin := 3
	if h-len(banner)-1-chainMin >= 9 {
		detail = s.detail(w, h-len(banner)-1-chainMin)
	}
	if detail == nil {
		for len(banner) > 3 && h-len(banner)-1-2-chainMin < 0 {
			banner = banner[:len(banner)-1]
		}
		detail = s.compactDetail(w)
	}
	chainH := h - len(banner) - len(detail)
	if chainH < 1 {
		detail = detail[:max(0, len(detail)+chainH-1)]
		chainH = 1
	}
	lines := make([]string, 0, h)
	lines = append(lines, banner...)
	lines = append(lines, s.chain(w, chainH)...)
	lines = append(lines, detail...)
	return lines, nil
}

// banner is the verdict in words and symbols, the deciding rule, its NSG and the flow.
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
	lab := func(l string) string { return st.Label.Render(fit(l, 6)) }
	rule := r.RuleLine()
	if r.Rule != nil {
		lines = append(lines, trunc(lab("Rule")+st.Title.Render(rule), w))
	} else {
		lines = append(lines, trunc(lab("Rule")+rule, w))
	}
	if l := r.Layer; l != nil {
		if l.Kind == engine.AdminLayer {
			lines = append(lines, trunc(lab("Layer")+"security admin rules on "+safe(l.AppliedTo), w))
		} else {
			lines = append(lines, trunc(lab("NSG")+st.Title.Render(safe(l.NSG.Name))+" on "+safe(l.AppliedTo), w))
		}
	}
	lines = append(lines, trunc(lab("Flow")+r.Flow.String()+st.Dim.Render(" on "+r.Target()), w))
	for _, n := range r.Notes {
		wrapped := wrap(safe(n), w-6, 0)
		if len(wrapped) > 2 { // at most two lines a note; the copy (y) has it whole
			wrapped = []string{wrapped[0], trunc(strings.Join(wrapped[1:], " "), w-6)}
		}
		for i, l := range wrapped {
			if i == 0 {
				lines = append(lines, lab("Note")+st.Warn.Render(l))
			} else {
				lines = append(lines, "      "+st.Warn.Render(trunc(l, w-6)))
			}
		}
	}
	return lines
}

// chain draws the column heading and h-1 rows of the chain around the selected rule.
func (s *verdictScreen) chain(w, h int) []string {
	st := s.c.st
	nameW, _ := s.columns(w)
	heading := "    " + fitLeft("PRIO", 5) + " " + fit("RULE", nameW) + " " + fit("ACCESS", s.accessW) + " RESULT"
	lines := []string{""}
	listH := max(h-1, 0)
	s.pageH = listH
	if listH == 0 {
		return []string{st.Header.Render(trunc(heading, w))}
	}
	// Keep the selection on screen, with its layer's heading when it is the layer's first rule.
	top := s.sel
	if top > 0 && s.rows[top-1].kind == rowLayer {
		top--
	}
	if top < s.offset {
		s.offset = top
	}
	if s.sel >= s.offset+listH {
		s.offset = s.sel - listH + 1
	}
	s.offset = min(max(s.offset, 0), max(len(s.rows)-listH, 0))
	// Do not start on a layer's reason without its heading, if the heading fits too.
	if s.offset > 0 && s.rows[s.offset].kind != rowRule && s.rows[s.offset].kind != rowLayer && s.sel < s.offset-1+listH {
		s.offset--
	}
	end := min(s.offset+listH, len(s.rows))
	_, resW := s.columns(w)
	for i := s.offset; i < end; i++ {
		lines = append(lines, s.row(i, w, nameW, resW))
	}
	pos := ""
	if len(s.rows) > listH {
		pos = itoa(s.offset+1) + "–" + itoa(end) + " of " + itoa(len(s.rows))
	}
	heading = trunc(heading, w-width(pos)-2)
	lines[0] = st.Header.Render(heading) + strings.Repeat(" ", max(w-width(heading)-width(pos), 0)) + st.Dim.Render(pos)
	return lines
}

// columns are the widths of the rule name and result columns for a width w.
func (s *verdictScreen) columns(w int) (nameW, resW int) {
	fixed := 4 + 5 + 1 + 1 + s.accessW + 1 // gutter+mark, priority, gaps, access
	nameW = min(s.nameW, max((w-fixed)/2, 8))
	return nameW, w - fixed - nameW
}

func (s *verdictScreen) row(i, w, nameW, resW int) string {
	st := s.c.st
	r := s.rows[i]
	lt := &s.res.Layers[r.layer]
	switch r.kind {
	case rowLayer:
		return s.layerHeading(int(r.layer), w)
	case rowReason:
		return st.Dim.Render(trunc("    "+safe(lt.Reason), w))
	case rowEmpty:
		return st.Dim.Render(trunc("    no "+strings.ToLower(s.res.Flow.Direction.String())+" rules here", w))
	}
	ri := int(r.rule)
	rule := lt.Rules()[ri]
	state := s.state(int(r.layer), ri)
	sel := i == s.sel
	gutter := " "
	if sel {
		gutter = "›"
	}
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
		result = safe(s.res.Reason(lt.Check(ri)))
	default:
		mark = "·"
		result = "not evaluated"
	}
	prio := fitLeft(itoa(rule.Priority), 5)
	name := fit(safe(rule.Name), nameW)
	access := fit(rule.Access.String(), s.accessW)
	res := trunc(shorten(result), resW)
	switch state {
	case stDeciding:
		line := gutter + " " + mark + " " + prio + " " + name + " " + access + " " + res
		if rule.Access == model.Deny {
			return st.DecidingDen.Render(fit(line, w))
		}
		return st.Deciding.Render(fit(line, w))
	case stNotEval:
		line := gutter + " " + mark + " " + prio + " " + name + " " + access + " " + res
		if sel {
			return st.Matched.Render(gutter) + st.Faint.Render(strings.TrimRight(line[len(gutter):], " "))
		}
		return st.Faint.Render(strings.TrimRight(line, " "))
	}
	markS := st.Fail.Render(mark)
	if state == stMatched {
		markS = st.Pass.Render(mark)
	}
	accS := st.Allow.Render(access)
	if rule.Access == model.Deny {
		accS = st.Deny.Render(access)
	}
	if sel {
		name = st.Matched.Render(name)
		gutter = st.Focus.Render(gutter)
	} else if state == stMatched {
		name = st.Matched.Render(name)
	}
	return gutter + " " + markS + " " + prio + " " + name + " " + accS + " " + st.Dim.Render(res)
}

func accessWord(a model.Access) string {
	switch a {
	case model.Deny:
		return "denies"
	case model.AlwaysAllow:
		return "always allows"
	}
	return "allows"
}

// layerHeading is "NSG web-subnet-nsg · subnet/hub/web" with the layer's outcome at the right.
func (s *verdictScreen) layerHeading(li, w int) string {
	st := s.c.st
	lt := &s.res.Layers[li]
	var name string
	switch {
	case lt.Kind == engine.AdminLayer:
		name = "Security admin rules"
	case lt.NSG != nil:
		name = "NSG " + safe(lt.NSG.Name)
	default:
		name = "No NSG"
	}
	where := " · " + safe(lt.AppliedTo)
	var outcome string
	switch lt.Status {
	case engine.NoNSG:
		outcome = "no NSG: allows"
	case engine.NotReached:
		outcome = "· not evaluated"
	default:
		r := lt.Matched()
		switch {
		case r == nil && lt.Kind == engine.AdminLayer:
			outcome = "no match → NSGs decide"
		case r == nil:
			outcome = "no match"
		case lt.Layer == s.res.Layer && r == s.res.Rule:
			outcome = "▶ " + accessWord(r.Access) + ", decides"
		case lt.Kind == engine.AdminLayer:
			outcome = "✓ allows → NSGs decide"
		default:
			outcome = "✓ allows → next layer"
		}
	}
	// When it is too wide, the place goes first, then the name, and the outcome last.
	room := w - width(outcome) - 2
	name = trunc(name, max(room, w/2))
	where = trunc(where, max(room-width(name), 0))
	left := st.Layer.Render(name) + st.Dim.Render(where)
	gap := w - width(left) - width(outcome)
	if gap < 1 {
		return trunc(left+" "+st.Dim.Render(outcome), w)
	}
	return left + strings.Repeat(" ", gap) + st.Dim.Render(outcome)
}

// selCheck returns the selected rule, its layer, and its check when it was tried.
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

// stepTitle is "Step 3 of 9 · NSG web-subnet-nsg" or "Not evaluated · NSG …".
func (s *verdictScreen) stepTitle(lt *engine.LayerTrace) string {
	where := "security admin rules"
	if lt.Kind != engine.AdminLayer {
		where = "NSG " + safe(lt.Name())
	}
	if i := s.stepIndex(); i >= 0 {
		return "Step " + itoa(i+1) + " of " + itoa(len(s.steps)) + " · " + where
	}
	return "Not evaluated · " + where
}

// detail is the full step panel, at most maxH lines; nil if it does not fit.
func (s *verdictScreen) detail(w, maxH int) []string {
	st := s.c.st
	lt, rule, ri, check := s.selected()
	if lt == nil {
		return nil
	}
	title := " " + s.stepTitle(lt) + " "
	lines := []string{st.Dim.Render("──") + st.Title.Render(trunc(title, w-4)) + st.Dim.Render(strings.Repeat("─", max(w-2-width(trunc(title, w-4)), 0)))}
	lines = append(lines, trunc(st.Title.Render(safe(rule.Name))+st.Dim.Render(" · ")+describeRule(rule), w))
	if check == nil {
		m := lt.Matched()
		why := "not evaluated: an earlier rule in this layer matched first"
		if m != nil {
			why = "not evaluated: " + safe(m.Name) + " (priority " + itoa(m.Priority) + ") matched first and decided this layer"
		}
		for _, l := range wrap("· "+why, w, 2) {
			lines = append(lines, st.Faint.Render(l))
		}
		return lines
	}
	budget := maxH - len(lines) - 1 // keep one line for the outcome
	if budget < len(engine.AllFields) {
		return nil
	}
	// Each check gets a line; the spare lines let long reasons wrap, failed checks first (they
	// are the reason the rule did not match).
	var texts [len(engine.AllFields)][]string
	spare := budget - len(engine.AllFields)
	for pass := 0; pass < 2; pass++ {
		for i, f := range engine.AllFields {
			if check.Fields.Has(f) != (pass == 1) {
				continue
			}
			why := safe(s.res.Why(*check, f))
			texts[i] = []string{trunc(why, w-4)}
			if wrapped := wrap(why, w-4, 2); len(wrapped) > 1 && spare > 0 {
				if n := 1 + spare; len(wrapped) > n { // as much as fits, the rest cut with …
					rest := make([]string, 0, len(wrapped)-n+1)
					for _, l := range wrapped[n-1:] {
						rest = append(rest, strings.TrimSpace(l))
					}
					wrapped = append(wrapped[:n-1:n-1], "  "+trunc(strings.Join(rest, " "), w-6))
				}
				texts[i] = wrapped
				spare -= len(wrapped) - 1
			}
		}
	}
	var body []string
	for i, f := range engine.AllFields {
		mark := st.Pass.Render("✓ ")
		if !check.Fields.Has(f) {
			mark = st.Fail.Render("✗ ")
		}
		for j, l := range texts[i] {
			if j == 0 {
				body = append(body, "  "+mark+l)
			} else {
				body = append(body, "    "+l)
			}
		}
	}
	lines = append(lines, body...)
	lines = append(lines, trunc(s.outcome(lt, ri, check), w))
	return lines
}

// outcome says what the selected rule did to the evaluation.
func (s *verdictScreen) outcome(lt *engine.LayerTrace, ri int, check *engine.RuleCheck) string {
	st := s.c.st
	li := s.rows[s.sel].layer
	switch s.state(int(li), ri) {
	case stFailed:
		f, _ := check.Fields.FirstFailed()
		return st.Fail.Render("✗ no match") + st.Dim.Render(" on "+f.String()+": evaluation goes on with the next rule")
	case stDeciding:
		word := st.AllowBanner.Render(" ✓ " + s.res.Headline() + " ")
		if s.res.Access == model.Deny {
			word = st.DenyBanner.Render(" ✗ " + s.res.Headline() + " ")
		}
		return st.Matched.Render("▶ matches: this rule decides ") + word
	case stMatched:
		next := "the next layer"
		for j := int(li) + 1; j < len(s.res.Layers); j++ {
			if n := s.res.Layers[j]; n.Status != engine.NotReached {
				next = s.layerName(&n)
				break
			}
		}
		if lt.Kind == engine.AdminLayer {
			return st.Pass.Render("✓ matches: ") + "the admin rule allows and lets the NSGs decide"
		}
		return st.Pass.Render("✓ matches: ") + "this NSG allows; next: " + next
	}
	return ""
}

func (s *verdictScreen) layerName(lt *engine.LayerTrace) string {
	switch {
	case lt.Kind == engine.AdminLayer:
		return "security admin rules"
	case lt.NSG != nil:
		return "NSG " + safe(lt.NSG.Name) + " (" + safe(lt.AppliedTo) + ")"
	}
	return "no NSG (" + safe(lt.AppliedTo) + ")"
}

// compactDetail is the step panel in two lines, for short terminals.
func (s *verdictScreen) compactDetail(w int) []string {
	st := s.c.st
	lt, rule, _, check := s.selected()
	if lt == nil {
		return nil
	}
	head := s.stepTitle(lt) + " · " + safe(rule.Name)
	if check == nil {
		return []string{st.Title.Render(trunc(head, w)), st.Faint.Render(trunc("· not evaluated: an earlier rule matched first", w))}
	}
	short := [...]string{"proto", "src", "sport", "dst", "dport"}
	var marks []string
	for i, f := range engine.AllFields {
		if check.Fields.Has(f) {
			marks = append(marks, st.Pass.Render("✓")+short[i])
		} else {
			marks = append(marks, st.Fail.Render("✗")+short[i])
		}
	}
	first := st.Title.Render(trunc(head, max(w-32, 10))) + "  " + strings.Join(marks, " ")
	return []string{trunc(first, w), st.Dim.Render(trunc(safe(s.res.Reason(*check)), w))}
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

func shorten(s string) string {
	return shortener.Replace(s)
}
