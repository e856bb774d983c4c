package tui

import (
	"cmp"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
	"ipflow/tui/effective"
)

// This file holds the whole-estate screens, answered exactly by package analysis: who can
// reach a NIC's port (reach), VM × VM on one port (matrix), and lint's findings. They use the
// one scroller, the KeyMap, and open verdicts and rule tables like the rest of the UI.

// analyzer is the analysis of the current estate, made once per engine.
func (c *ctx) analyzer() *analysis.Analyzer {
	if c.an == nil || c.an.Engine() != c.eng {
		c.an = analysis.New(c.eng)
	}
	return c.an
}

// done is the end of work done off the UI goroutine: the UI goroutine runs it (Model.Update),
// so screens change only there.
type done func()

// query is the part of a flow a whole-estate question fixes: direction, protocol and port(s).
type query struct {
	dir   model.Direction
	proto model.Protocol
	ports model.PortRange
	edit  input // the port(s) being typed after QueryPort
	on    bool  // editing the port
}

// newQuery starts from the flow last checked, else inbound TCP 443.
func newQuery(c *ctx) query {
	q := query{dir: model.Inbound, proto: model.TCP, ports: model.PortRange{Lo: 443, Hi: 443}}
	if f := c.last; f != nil {
		q.dir, q.proto = f.Direction, f.Protocol
		_, p := f.Destination()
		if p >= 0 {
			q.ports = model.PortRange{Lo: uint16(p), Hi: uint16(p)}
		}
	}
	q.edit = input{placeholder: "443, 8000-8080 or *", limit: 20}
	return q
}

func (q *query) String(withDir bool) string {
	s := q.proto.FlowString()
	if q.proto.HasPorts() {
		s += " port " + q.ports.String()
	}
	if withDir {
		s = q.dir.String() + " " + s
	}
	return s
}

// update handles the query keys; changed reports whether the question changed.
func (q *query) update(msg tea.Msg, k *KeyMap, withDir bool) (handled, changed bool, problem string) {
	if q.on {
		km, ok := msg.(tea.KeyPressMsg)
		switch {
		case ok && key.Matches(km, k.Keep):
			q.on = false
			q.edit.Blur()
			r, err := model.ParsePortRange(strings.TrimSpace(q.edit.Value()))
			if err != nil {
				return true, false, "port: one port or range, like 443, 8000-8080 or *"
			}
			q.ports = r
			return true, true, ""
		case ok && key.Matches(km, k.Clear):
			q.on = false
			q.edit.Blur()
			return true, false, ""
		}
		q.edit.Update(msg, k)
		return true, false, ""
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return false, false, ""
	}
	switch {
	case withDir && key.Matches(km, k.QueryDirection):
		q.dir = 1 - q.dir
	case key.Matches(km, k.QueryProtocol):
		i := 0
		for j, p := range protocols {
			if p == q.proto {
				i = (j + 1) % len(protocols)
			}
		}
		q.proto = protocols[i]
	case key.Matches(km, k.QueryPort):
		if !q.proto.HasPorts() {
			return true, false, q.proto.FlowString() + " has no ports"
		}
		q.on = true
		q.edit.SetValue(q.ports.String())
		q.edit.Focus()
		q.edit.SelectAll()
		return true, false, ""
	default:
		return false, false, ""
	}
	return true, true, ""
}

// line draws the query: "Inbound TCP port 443   tab direction · t protocol · : port".
func (q *query) line(st *Styles, w int, withDir bool) (string, *tea.Cursor) {
	if q.on {
		text, x := q.edit.View(max(w-10, 1), st.Choice, st.Faint)
		return st.Focus.Render("port: ") + text, tea.NewCursor(6+x, 0)
	}
	keys := "t protocol · : port"
	if withDir {
		keys = "tab direction · " + keys
	}
	return trunc(st.Choice.Render(q.String(withDir))+"   "+st.Faint.Render(keys), w), nil
}

// entryLine is one line of a multi-line item in a scroller: the item and its line.
type entryLine struct {
	item int
	text string
	head bool
}

// headLine is the index of item's first line, where the cursor rests; -1 when it has none.
func headLine(lines []entryLine, item int) int {
	for j, l := range lines {
		if l.head && l.item == item {
			return j
		}
	}
	return -1
}

// entryRows draws the lines the scroller shows in h rows: the cursor's line selected, each
// item's first line in headStyle(item), the rest dim.
func entryRows(st *Styles, list *scroller, lines []entryLine, w, h int, headStyle func(item int) lipgloss.Style) []string {
	start, end := list.window(h)
	rows := make([]string, 0, end-start)
	for i := start; i < end; i++ {
		l := lines[i]
		switch {
		case i == list.cursor:
			rows = append(rows, st.Selected.Render(fit(l.text, w)))
		case l.head:
			rows = append(rows, headStyle(l.item).Render(l.text))
		default:
			rows = append(rows, st.Dim.Render(l.text))
		}
	}
	return rows
}

// reachScreen answers who can reach a NIC's port (inbound), or where it may send (outbound):
// the flow space split by the rule that decides it, allowed first, each part with what it holds.
type reachScreen struct {
	c     *ctx
	vm    *model.VM
	nic   *model.NIC
	q     query
	res   *analysis.Reach
	err   string
	items []analysis.Entry
	lines []entryLine
	w     int
	list  scroller
	cur   int // the selected item
}

func newReach(c *ctx, vm *model.VM, nic *model.NIC) *reachScreen {
	s := &reachScreen{c: c, vm: vm, nic: nic, q: newQuery(c)}
	s.list.selectable = func(i int) bool { return s.lines[i].head }
	s.run()
	return s
}

func (s *reachScreen) run() {
	s.res, s.err, s.lines, s.cur = nil, "", nil, 0
	r, err := s.c.analyzer().Reach(analysis.ReachQuery{VM: s.vm.Name, NIC: s.nic.Name, Direction: s.q.dir, Protocol: s.q.proto, Ports: s.q.ports})
	if err != nil {
		s.err = safe(err.Error())
		return
	}
	s.res = r
	s.items = append(append([]analysis.Entry(nil), r.Allowed...), r.Denied...)
}

func (s *reachScreen) crumbs() []string { return []string{"reach"} }

func (s *reachScreen) typing() bool { return s.q.on }

func (s *reachScreen) help() help.KeyMap {
	k := s.c.keys
	open := with(k.Select, "enter", "verdict of this part")
	return helpMap{
		short: []key.Binding{with(k.Down, "↑/↓", "move"), open, k.QueryDirection, k.QueryProtocol, k.QueryPort, k.Back, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{open, k.QueryDirection, k.QueryProtocol, k.QueryPort},
			{k.Back, k.Help, k.Quit, k.Force},
		},
	}
}

func (s *reachScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if handled, changed, problem := s.q.update(msg, k, true); handled {
		if problem != "" {
			m.setStatus(problem, true)
		}
		if changed {
			s.run()
		}
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.Select):
		if s.cur < len(s.items) {
			openFlow(m, s.flowOf(s.items[s.cur]))
		}
	default:
		s.layout(max(s.w, m.width, 1))
		if s.list.move(km, k) && s.list.cursor >= 0 {
			s.cur = s.lines[s.list.cursor].item
		}
	}
	return nil
}

// flowOf is one flow of an entry: its lowest remote address and ports.
func (s *reachScreen) flowOf(e analysis.Entry) engine.Flow {
	ipc := s.res.Target.IPConfig()
	f := engine.Flow{VM: s.vm.Name, NIC: s.nic.Name, Direction: s.q.dir, Protocol: s.q.proto, LocalIP: ipc.PrivateIP}
	if ps := e.Remote.Prefixes(); len(ps) > 0 {
		f.RemoteIP = ps[0].Addr()
	}
	if s.q.proto.HasPorts() {
		if rs := e.RemotePorts.Ranges(); len(rs) > 0 {
			f.RemotePort = engine.Port(rs[0].Lo)
		}
		if rs := e.LocalPorts.Ranges(); len(rs) > 0 {
			f.LocalPort = engine.Port(rs[0].Lo)
		}
	}
	return f
}

func (s *reachScreen) layout(w int) {
	if s.lines != nil && s.w == w {
		return
	}
	s.w, s.lines = w, s.lines[:0]
	remote := "from "
	if s.q.dir == model.Outbound {
		remote = "to "
	}
	for i, e := range s.items {
		mark := "✓ "
		if e.Access == model.Deny {
			mark = "✗ "
		}
		for j, l := range wrap(mark+e.RuleLine(), w, 4) {
			s.lines = append(s.lines, entryLine{i, l, j == 0})
		}
		detail := []string{remote + e.Remote.String()}
		if s.q.proto.HasPorts() {
			detail = append(detail, "remote ports "+e.RemotePorts.String()+", local ports "+e.LocalPorts.String())
		}
		if len(e.Contains) > 0 {
			detail = append(detail, "holds "+strings.Join(e.Contains, "; "))
		}
		for _, d := range detail {
			for _, l := range wrap(safe(d), w-4, 2) {
				s.lines = append(s.lines, entryLine{i, "    " + l, false})
			}
		}
	}
	s.list.n = len(s.lines)
	s.list.cursor = headLine(s.lines, s.cur)
}

func (s *reachScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	title := "Who can reach " + safe(s.vm.Name) + " / " + safe(s.nic.Name)
	if s.q.dir == model.Outbound {
		title = "Where " + safe(s.vm.Name) + " / " + safe(s.nic.Name) + " may send"
	}
	lines := []string{st.Title.Render(trunc(title, w))}
	ql, cur := s.q.line(st, w, true)
	if cur != nil {
		cur.Y = len(lines)
	}
	lines = append(lines, ql)
	if s.err != "" {
		for _, l := range wrap("✗ "+s.err, w, 2) {
			lines = append(lines, st.Err.Render(l))
		}
		return lines, cur
	}
	count := plural(len(s.res.Allowed), "part allowed", "parts allowed") + ", " + plural(len(s.res.Denied), "part denied", "parts denied") + " · exact, every address and port"
	lines = append(lines, st.Dim.Render(trunc(count, w)))
	s.layout(w)
	return append(lines, entryRows(st, &s.list, s.lines, w, max(h-len(lines), 1), func(item int) lipgloss.Style {
		if s.items[item].Access == model.Deny {
			return st.Deny
		}
		return st.Allow
	})...), cur
}

// openFlow checks a flow and opens its verdict (with the form behind it, as from the NICs).
func openFlow(m *Model, f engine.Flow) {
	res, err := m.c.verify(f)
	if err != nil {
		m.setStatus(safe(err.Error()), true)
		return
	}
	m.c.last = &res.Flow
	form := newFormFor(m.c, res.VM, res.NIC, res.Flow)
	m.push(form)
	m.push(newVerdict(m.c, res))
}

// matrixScreen is VM × VM on one port: can a flow from the row's VM reach the column's VM? A
// cell allows only when the source's outbound and the destination's inbound evaluation both
// allow (NSGs are stateful). The VMs are the VM list's filter; enter opens the cell's verdict.
type matrixScreen struct {
	c      *ctx
	vms    []*model.VM
	capped int // VMs left out past the limit
	q      query
	res    *analysis.Matrix
	err    string
	list   scroller // rows
	col    int
	colOff int
	busy   bool // computing
	gen    int  // the question being answered
}

// matrixLimit keeps the matrix readable and quick; the filter narrows it.
const matrixLimit = 200

func newMatrix(c *ctx, vms []*model.VM) (*matrixScreen, tea.Cmd) {
	s := &matrixScreen{c: c, q: newQuery(c)}
	if len(vms) > matrixLimit {
		s.capped = len(vms) - matrixLimit
		vms = vms[:matrixLimit]
	}
	s.vms = vms
	return s, s.run()
}

// run computes the matrix off the UI goroutine (up to a second for 200 VMs); the screen says
// so meanwhile, and the answer lands through a done message.
func (s *matrixScreen) run() tea.Cmd {
	names := make([]string, len(s.vms))
	for i, vm := range s.vms {
		names[i] = vm.Name
	}
	s.res, s.err, s.busy = nil, "", true
	a, q := s.c.analyzer(), analysis.MatrixQuery{Protocol: s.q.proto, Port: s.q.ports.Lo, VMs: names}
	s.gen++
	gen := s.gen
	return func() tea.Msg {
		r, err := a.Matrix(q)
		return done(func() {
			if gen != s.gen {
				return // a newer question was asked meanwhile
			}
			s.busy = false
			if err != nil {
				s.err = safe(err.Error())
				return
			}
			s.res = r
			cur := s.list.cursor
			s.list.reset(len(r.VMs))
			if cur > 0 {
				s.list.set(cur)
			}
			s.col = min(max(s.col, 0), max(len(r.VMs)-1, 0))
		})
	}
}

func (s *matrixScreen) crumbs() []string { return []string{"matrix"} }

func (s *matrixScreen) typing() bool { return s.q.on }

func (s *matrixScreen) help() help.KeyMap {
	k := s.c.keys
	open := with(k.Select, "enter", "the cell's verdict")
	return helpMap{
		short: []key.Binding{with(k.Down, "↑↓←→", "move"), open, k.QueryProtocol, k.QueryPort, k.Back, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.CellLeft, k.CellRight, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{open, k.QueryProtocol, k.QueryPort},
			{k.Back, k.Help, k.Quit, k.Force},
		},
	}
}

func (s *matrixScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if handled, changed, problem := s.q.update(msg, k, false); handled {
		if problem != "" {
			m.setStatus(problem, true)
		}
		if changed {
			return s.run()
		}
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || s.res == nil {
		if ok && key.Matches(km, k.Back) {
			m.pop()
		}
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.CellLeft):
		s.col = max(s.col-1, 0)
	case key.Matches(km, k.CellRight):
		s.col = min(s.col+1, len(s.res.VMs)-1)
	case key.Matches(km, k.Select):
		s.open(m)
	default:
		s.list.move(km, k)
	}
	return nil
}

// open shows the verdict of the selected cell: the side that denies (the source's outbound,
// else the destination's inbound), or the destination's inbound when both allow.
func (s *matrixScreen) open(m *Model) {
	i, j := s.list.cursor, s.col
	if i < 0 || i >= len(s.res.VMs) || j >= len(s.res.VMs) {
		return
	}
	c := s.res.Cells[i][j]
	src, dst := s.res.VMs[i], s.res.VMs[j]
	if c.State == analysis.NotPaired {
		m.setStatus(safe(src.VM.Name)+" → "+safe(dst.VM.Name)+": "+notPairedWhy(src, dst), true)
		return
	}
	sip, dip := src.Target.IPConfig(), dst.Target.IPConfig()
	sport := engine.Port(c.SourcePort)
	if !s.q.proto.HasPorts() {
		sport = 0
	}
	dport := engine.Port(s.q.ports.Lo)
	if c.Out.Access == model.Deny {
		openFlow(m, engine.Flow{VM: src.VM.Name, NIC: sip.NIC.Name, Direction: model.Outbound, Protocol: s.q.proto,
			LocalIP: sip.PrivateIP, LocalPort: sport, RemoteIP: dip.PrivateIP, RemotePort: dport})
		return
	}
	openFlow(m, engine.Flow{VM: dst.VM.Name, NIC: dip.NIC.Name, Direction: model.Inbound, Protocol: s.q.proto,
		LocalIP: dip.PrivateIP, LocalPort: dport, RemoteIP: sip.PrivateIP, RemotePort: sport})
}

func notPairedWhy(src, dst analysis.MatrixVM) string {
	switch {
	case src.VM == dst.VM:
		return "the same VM"
	case !src.Ok:
		return safe(src.VM.Name) + " cannot be checked (deallocated, or no address)"
	}
	return safe(dst.VM.Name) + " cannot be checked (deallocated, or no address)"
}

// cellMark is a cell in words and symbols, readable without colour.
func cellMark(c analysis.Cell) string {
	switch c.State {
	case analysis.Allowed:
		return "✓"
	case analysis.Partly:
		return "◐"
	case analysis.Denied:
		return "✗"
	}
	return "·"
}

func (s *matrixScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	title := "VM × VM: can the row's VM reach the column's VM?"
	lines := []string{st.Title.Render(trunc(title, w))}
	ql, cur := s.q.line(st, w, false)
	if cur != nil {
		cur.Y = len(lines)
	}
	lines = append(lines, ql)
	if s.err != "" {
		return append(lines, st.Err.Render(trunc("✗ "+s.err, w))), cur
	}
	if s.busy || s.res == nil {
		return append(lines, st.Dim.Render(trunc("computing "+itoa(len(s.vms))+" × "+itoa(len(s.vms))+" flows…", w))), cur
	}
	n := len(s.res.VMs)
	note := plural(n, "VM", "VMs") + " from the VM list's filter · ✓ allowed  ◐ some source ports  ✗ denied  · n/a"
	if s.capped > 0 {
		note = "the first " + itoa(n) + " VMs (" + itoa(s.capped) + " more: narrow the filter) · ✓ ◐ ✗ ·"
	}
	lines = append(lines, st.Dim.Render(trunc(note, w)))
	labelW := 4
	for _, v := range s.res.VMs {
		labelW = max(labelW, width(safe(v.VM.Name)))
	}
	labelW = min(labelW, max(w/3, 8))
	numW := len(itoa(n))
	cellW := numW + 1
	cols := max((w-labelW-numW-3)/cellW, 1)
	if s.col < s.colOff {
		s.colOff = s.col
	}
	if s.col >= s.colOff+cols {
		s.colOff = s.col - cols + 1
	}
	s.colOff = min(max(s.colOff, 0), max(n-cols, 0))
	endCol := min(s.colOff+cols, n)
	head := strings.Repeat(" ", labelW+numW+3)
	for j := s.colOff; j < endCol; j++ {
		cell := fitLeft(itoa(j+1), numW) + " "
		if j == s.col {
			cell = st.Focus.Render(cell)
		}
		head += cell
	}
	lines = append(lines, st.Header.Render(head))
	detail := s.cellDetail(w)
	start, end := s.list.window(max(h-len(lines)-len(detail), 1))
	for i := start; i < end; i++ {
		label := fitLeft(itoa(i+1), numW) + " " + fit(safe(s.res.VMs[i].VM.Name), labelW) + "  "
		if i == s.list.cursor {
			label = st.Selected.Render(label)
		}
		row := label
		for j := s.colOff; j < endCol; j++ {
			c := s.res.Cells[i][j]
			mark := fitLeft(cellMark(c), numW) + " "
			switch {
			case i == s.list.cursor && j == s.col:
				mark = st.Selected.Render(mark)
			case c.State == analysis.Allowed:
				mark = st.Allow.Render(mark)
			case c.State == analysis.Denied:
				mark = st.Deny.Render(mark)
			case c.State == analysis.Partly:
				mark = st.Warn.Render(mark)
			default:
				mark = st.Faint.Render(mark)
			}
			row += mark
		}
		lines = append(lines, row)
	}
	lines = block(lines, h-len(detail))
	return append(lines, detail...), cur
}

// cellDetail says what the selected cell is, in words: both sides' deciding rules.
func (s *matrixScreen) cellDetail(w int) []string {
	st := s.c.st
	if s.res == nil {
		return nil
	}
	i, j := s.list.cursor, s.col
	if i < 0 || i >= len(s.res.VMs) || j >= len(s.res.VMs) {
		return nil
	}
	c := s.res.Cells[i][j]
	src, dst := s.res.VMs[i], s.res.VMs[j]
	head := safe(src.VM.Name) + " → " + safe(dst.VM.Name) + " " + s.q.String(false) + ": "
	var text []string
	switch c.State {
	case analysis.NotPaired:
		text = []string{head + "n/a: " + notPairedWhy(src, dst)}
	default:
		word := map[analysis.CellState]string{analysis.Allowed: "allowed", analysis.Partly: "allowed from source ports " + c.SourcePorts.String(), analysis.Denied: "denied"}[c.State]
		text = []string{head + word,
			"out: " + c.Out.RuleLine(),
			"in:  " + c.In.RuleLine()}
	}
	out := []string{st.Dim.Render(strings.Repeat("─", w))}
	for _, t := range text {
		for _, l := range wrap(safe(t), w, 5) {
			out = append(out, l)
		}
	}
	return out
}

// lintScreen lists lint's findings, most severe first; enter jumps to the rule (its NSG's
// table with the rule selected).
type lintScreen struct {
	c     *ctx
	busy  bool
	fs    analysis.Findings
	lines []entryLine
	w     int
	list  scroller
	cur   int
}

// newLint starts lint off the UI goroutine (up to seconds on a large estate); the screen says
// so meanwhile.
func newLint(c *ctx) (*lintScreen, tea.Cmd) {
	s := &lintScreen{c: c, busy: true}
	s.list.selectable = func(i int) bool { return s.lines[i].head }
	a := c.analyzer()
	return s, func() tea.Msg {
		fs := a.Lint()
		return done(func() { s.fs, s.busy, s.lines = fs, false, nil })
	}
}

func (s *lintScreen) crumbs() []string { return []string{"lint"} }

func (s *lintScreen) typing() bool { return false }

func (s *lintScreen) help() help.KeyMap {
	k := s.c.keys
	open := with(k.Select, "enter", "go to the rule")
	return helpMap{
		short: []key.Binding{with(k.Down, "↑/↓", "move"), open, k.Back, k.Help, k.Quit},
		full:  [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {open, k.Back}, {k.Help, k.Quit, k.Force}},
	}
}

func (s *lintScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := s.c.keys
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.Select):
		if s.cur < len(s.fs) {
			s.jump(m, s.fs[s.cur])
		}
	default:
		s.layout(max(s.w, m.width, 1))
		if s.list.move(km, k) && s.list.cursor >= 0 {
			s.cur = s.lines[s.list.cursor].item
		}
	}
	return nil
}

// jump opens the table of the finding's NSG (or the admin rules) with its rule selected.
func (s *lintScreen) jump(m *Model, f analysis.Finding) {
	env := s.c.env
	switch {
	case f.NSG != nil:
		rs := nsgTable(s.c, f.NSG.Name, ipcRef{}, false)
		if rs == nil {
			return
		}
		if f.Rule != nil {
			rs.selectRule(f.NSG.Name, f.Rule.Name)
		}
		m.push(rs)
	case f.Rule != nil && f.Rule.Kind == model.AdminRuleKind:
		rs := adminTable(s.c, ipcRef{})
		rs.selectRule("", f.Rule.Name)
		m.push(rs)
	case len(f.VMs) > 0:
		// Exposure without a rule (no NSG at all): the first exposed VM's effective rules.
		if vm := findVM(env, f.VMs[0]); vm != nil && vm.PrimaryNIC() != nil {
			m.openEffective(vm, vm.PrimaryNIC())
			m.setStatus(safe(f.Subject)+" "+safe(f.Message), true)
			return
		}
		m.push(newPager(s.c, "finding", s.findingText(f)))
	default:
		// An ASG or a service tag: the finding whole, with what the estate holds of it.
		m.push(newPager(s.c, "finding", s.findingText(f)))
	}
}

// findingText is a finding without a rule in full: what, where, why, and for an ASG its
// members and the rules naming it, for a service tag its prefixes and the rules naming it.
func (s *lintScreen) findingText(f analysis.Finding) func(w int) []string {
	st := s.c.st
	env := s.c.env
	var body []string
	uses := func(match func(model.Side) bool) {
		n := 0
		for _, nsg := range env.NSGs {
			for _, r := range nsg.Rules {
				if match(r.Source) || match(r.Destination) {
					body = append(body, "  NSG "+safe(nsg.Name)+": "+safe(r.Name)+" · "+describeRule(r))
					n++
				}
			}
		}
		for _, a := range env.AdminRules {
			if match(a.Source) || match(a.Destination) {
				body = append(body, "  admin rule "+safe(a.Name)+" · "+describeRule(&a.Rule))
				n++
			}
		}
		if n == 0 {
			body = append(body, "  none")
		}
	}
	switch f.Kind {
	case analysis.KindEmptyASG:
		for _, g := range env.ASGs {
			if "ASG "+safe(g.Name) != f.Subject {
				continue
			}
			body = append(body, plural(len(g.Members), "member", "members"), "Rules naming it:")
			uses(func(sd model.Side) bool {
				for _, a := range sd.ASGs {
					if a == g {
						return true
					}
				}
				return false
			})
		}
	case analysis.KindUnusedTag:
		for name, prefixes := range env.ServiceTags {
			if "service tag "+safe(name) != f.Subject {
				continue
			}
			body = append(body, "Prefixes ("+itoa(len(prefixes))+"):")
			for _, p := range prefixes {
				body = append(body, "  "+p.String())
			}
			body = append(body, "Rules naming it:")
			uses(func(sd model.Side) bool {
				for _, a := range sd.Addresses {
					if a.Kind == model.TagAddress && a.Tag == name {
						return true
					}
				}
				return false
			})
		}
	}
	pos := f.Pos.String()
	if pos == "" {
		pos = "(estate)"
	}
	return func(w int) []string {
		var out []string
		for _, l := range wrap(f.Severity.String()+" · "+f.Kind+" · "+safe(f.Subject), w, 2) {
			out = append(out, st.Title.Render(l))
		}
		out = append(out, wrap(safe(f.Message), w, 2)...)
		out = append(out, wrap("in "+safe(pos), w, 2)...)
		for _, l := range body {
			out = append(out, wrap(l, w, 4)...)
		}
		return out
	}
}

// expanderFor is an expander from the first IP configuration the NSG applies to, and that NIC's
// name; nil when the NSG is attached to nothing (its tags then hold nothing in particular).
func expanderFor(c *ctx, nsg *model.NSG) (*effective.Expander, string) {
	for _, vm := range c.env.VMs {
		for _, n := range vm.NICs {
			for _, ipc := range n.IPConfigs {
				if ipc.Subnet != nil && (n.NSG == nsg || ipc.Subnet.NSG == nsg) {
					return effective.NewExpander(c.env, ipc), safe(n.Name)
				}
			}
		}
	}
	return nil, ""
}

// nsgRuleGroups are an NSG's rules of both directions, custom and default, by priority: the
// evaluation order, since Azure (and the loader) keep priorities unique per direction in an
// NSG. (From a verdict the engine's own layer gives the order; this is for an NSG reached from
// a lint finding, which may be attached to nothing.)
func nsgRuleGroups(nsg *model.NSG) []ruleGroup {
	all := append(slices.Clone(nsg.Rules), model.DefaultRules()...)
	var gs []ruleGroup
	for _, d := range []model.Direction{model.Inbound, model.Outbound} {
		g := ruleGroup{direction: d.String(), nsg: nsg.Name}
		for _, r := range all {
			if r.Direction == d {
				g.rules = append(g.rules, r)
			}
		}
		slices.SortStableFunc(g.rules, func(a, b *model.Rule) int { return cmp.Compare(a.Priority, b.Priority) })
		gs = append(gs, g)
	}
	return gs
}

func (s *lintScreen) layout(w int) {
	if s.lines != nil && s.w == w {
		return
	}
	s.w, s.lines = w, s.lines[:0]
	for i, f := range s.fs {
		head := f.Severity.String() + " · " + f.Kind + " · " + safe(f.Subject)
		for j, l := range wrap(head, w, 4) {
			s.lines = append(s.lines, entryLine{i, l, j == 0})
		}
		body := safe(f.Message)
		if p := f.Pos.String(); p != "" {
			body += " (" + safe(p) + ")"
		}
		for _, l := range wrap(body, w-4, 0) {
			s.lines = append(s.lines, entryLine{i, "    " + l, false})
		}
	}
	s.list.n = len(s.lines)
	s.list.cursor = headLine(s.lines, s.cur)
}

func (s *lintScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	if s.busy {
		return []string{st.Title.Render("Lint"), st.Dim.Render(trunc("checking every rule of the estate…", w))}, nil
	}
	notes, warns, errs := s.fs.Count()
	lines := []string{st.Title.Render("Lint") + "  " + st.Dim.Render(trunc(plural(errs, "error", "errors")+", "+plural(warns, "warning", "warnings")+", "+plural(notes, "note", "notes")+" · as ipflow lint", w-6))}
	if len(s.fs) == 0 {
		return append(lines, st.Dim.Render("  No findings.")), nil
	}
	s.layout(w)
	return append(lines, entryRows(st, &s.list, s.lines, w, max(h-len(lines), 1), func(item int) lipgloss.Style {
		if s.fs[item].Severity == analysis.Error {
			return st.Err
		}
		return st.Warn
	})...), nil
}
