package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/model"
)

// vmRow is one VM as the list shows it, computed once.
type vmRow struct {
	vm    *model.VM
	name  string // safe to draw
	ip    string // the primary NIC's primary IP, or ""
	nics  int
	lower string // lower-cased name, for highlighting the match
	key   string // what the filter searches: lower-cased name and every private IP
}

// vmsScreen is the list of virtual machines with a substring filter. It renders only the rows
// on screen, so it stays instant with tens of thousands of VMs.
type vmsScreen struct {
	c      *ctx
	rows   []vmRow
	nameW  int   // widest name, capped
	shown  []int // indices into rows that match the filter
	cursor int   // index into shown
	offset int   // first shown row on screen

	input     input
	filtering bool   // keys go to the filter
	query     string // the applied filter, lower-cased
	pageH     int    // rows on screen at the last draw, for paging
}

func newVMs(c *ctx) *vmsScreen {
	s := &vmsScreen{c: c}
	s.rows = make([]vmRow, len(c.env.VMs))
	s.shown = make([]int, len(c.env.VMs))
	var kb strings.Builder
	for i, vm := range c.env.VMs {
		r := vmRow{vm: vm, name: safe(vm.Name), nics: len(vm.NICs)}
		if n := vm.PrimaryNIC(); n != nil {
			if ipc := n.PrimaryIPConfig(); ipc != nil {
				r.ip = ipc.PrivateIP.String()
			}
		}
		r.lower = strings.ToLower(r.name)
		kb.Reset()
		kb.WriteString(r.lower)
		for _, n := range vm.NICs {
			for _, ipc := range n.IPConfigs {
				kb.WriteByte('\x00')
				kb.WriteString(ipc.PrivateIP.String())
			}
		}
		r.key = kb.String()
		s.rows[i] = r
		s.shown[i] = i
		s.nameW = max(s.nameW, width(r.name))
	}
	s.nameW = min(max(s.nameW, 4), 40)
	s.input = input{placeholder: "type part of a name or an IP", limit: 80}
	return s
}

func (s *vmsScreen) crumbs() []string { return []string{"VMs"} }

func (s *vmsScreen) typing() bool { return s.filtering }

func (s *vmsScreen) help() help.KeyMap {
	k := s.c.keys
	if s.filtering {
		move := key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move"))
		return helpMap{
			short: []key.Binding{k.FilterKeep, k.FilterClear, move, k.Force},
			full:  [][]key.Binding{{k.FilterKeep, k.FilterClear}, {move, k.PageUp, k.PageDown}, {k.Force}},
		}
	}
	back := k.Back
	back.SetHelp("esc", "clear filter")
	sel := k.Select
	sel.SetHelp("enter", "open VM's NICs")
	move := key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move"))
	short := []key.Binding{move, k.Select, k.Filter, k.Help, k.Quit}
	if s.query != "" {
		short = []key.Binding{move, k.Select, k.Filter, back, k.Help, k.Quit}
	}
	return helpMap{
		short: short,
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{sel, k.Filter, back},
			{k.Help, k.Quit, k.Force},
		},
	}
}

// selected is the VM under the cursor, or nil when the list is empty.
func (s *vmsScreen) selected() *model.VM {
	if s.cursor < 0 || s.cursor >= len(s.shown) {
		return nil
	}
	return s.rows[s.shown[s.cursor]].vm
}

// selectVM puts the cursor on vm, clearing the filter if it hides it.
func (s *vmsScreen) selectVM(vm *model.VM) {
	for pass := 0; pass < 2; pass++ {
		for i, idx := range s.shown {
			if s.rows[idx].vm == vm {
				s.cursor = i
				return
			}
		}
		s.setQuery("")
		s.input.SetValue("")
	}
}

func (s *vmsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if s.filtering {
		switch msg := msg.(type) {
		case tea.KeyPressMsg:
			switch {
			case key.Matches(msg, k.FilterKeep):
				s.filtering = false
				s.input.Blur()
				return nil
			case key.Matches(msg, k.FilterClear):
				s.filtering = false
				s.input.Blur()
				s.input.SetValue("")
				s.setQuery("")
				return nil
			case msg.String() == "up", msg.String() == "down", msg.String() == "pgup", msg.String() == "pgdown":
				s.move(msg)
				return nil
			}
		}
		if s.input.Update(msg) {
			s.setQuery(s.input.Value())
		}
		return nil
	}
	msg2, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(msg2, k.Filter):
		s.filtering = true
		s.input.CursorEnd()
		s.input.Focus()
		return nil
	case key.Matches(msg2, k.Back):
		if s.query != "" {
			s.input.SetValue("")
			s.setQuery("")
		}
		return nil
	case key.Matches(msg2, k.Select):
		vm := s.selected()
		if vm == nil {
			return nil
		}
		m.push(newNICs(s.c, vm))
		return nil
	}
	s.move(msg2)
	return nil
}

// move handles the cursor keys.
func (s *vmsScreen) move(msg tea.KeyPressMsg) {
	k := s.c.keys
	page := max(s.pageH-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		s.cursor--
	case key.Matches(msg, k.Down):
		s.cursor++
	case key.Matches(msg, k.PageUp):
		s.cursor -= page
	case key.Matches(msg, k.PageDown):
		s.cursor += page
	case key.Matches(msg, k.Top):
		s.cursor = 0
	case key.Matches(msg, k.Bottom):
		s.cursor = len(s.shown) - 1
	}
	s.cursor = min(max(s.cursor, 0), max(len(s.shown)-1, 0))
}

// setQuery applies a filter: every VM whose name or a private IP contains q (case-insensitive).
// A query that extends the previous one only searches the previous matches.
func (s *vmsScreen) setQuery(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == s.query {
		return
	}
	var from []int
	if s.query != "" && strings.HasPrefix(q, s.query) {
		from = s.shown
	}
	s.query = q
	out := s.shown[:0:0]
	if from == nil {
		out = make([]int, 0, len(s.rows))
		for i := range s.rows {
			if q == "" || strings.Contains(s.rows[i].key, q) {
				out = append(out, i)
			}
		}
	} else {
		out = make([]int, 0, len(from))
		for _, i := range from {
			if strings.Contains(s.rows[i].key, q) {
				out = append(out, i)
			}
		}
	}
	s.shown = out
	s.cursor, s.offset = 0, 0
}

// Columns of the list; narrow terminals drop NICS, then PRIMARY IP.
type vmCols struct{ name, state, nics, ip int }

func (s *vmsScreen) cols(w int) vmCols {
	c := vmCols{state: 13, nics: 4, ip: 15}
	rest := w - 2 - c.state - 2 - c.nics - 2 - c.ip - 2
	if rest < 12 {
		c.nics = 0
		rest += 4 + 2
	}
	if rest < 12 {
		c.ip = 0
		rest += 15 + 2
	}
	c.name = min(s.nameW, max(rest, 4))
	return c
}

func (s *vmsScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	lines := make([]string, 0, h)
	var cur *tea.Cursor

	total := len(s.rows)
	title := st.Title.Render("Virtual machines")
	count := plural(total, "VM", "VMs")
	if s.query != "" {
		count = itoa(len(s.shown)) + " of " + count + " match"
	}
	lines = append(lines, title+"  "+st.Dim.Render(count))

	if s.filtering || s.query != "" {
		text, x := s.input.View(max(w-3, 1), st.Choice, st.Faint)
		var line string
		if s.filtering {
			line = st.Focus.Render("/ ") + text
			cur = tea.NewCursor(2+x, len(lines))
		} else {
			line = st.Dim.Render("/ ") + text + st.Faint.Render("   (esc clears)")
		}
		lines = append(lines, line)
	}

	c := s.cols(w)
	hdr := "  " + fit("NAME", c.name) + "  " + fit("STATE", c.state)
	if c.nics > 0 {
		hdr += "  " + fitLeft("NICS", c.nics)
	}
	if c.ip > 0 {
		hdr += "  " + fit("PRIMARY IP", c.ip)
	}
	lines = append(lines, st.Header.Render(strings.TrimRight(hdr, " ")))

	// Rows, then one footer line about the VM under the cursor.
	listH := h - len(lines) - 1
	if listH < 1 {
		listH = max(h-len(lines), 0)
	}
	s.pageH = listH
	if len(s.shown) == 0 {
		if total == 0 {
			lines = append(lines, st.Dim.Render("  This environment has no VMs."))
		} else {
			lines = append(lines, st.Warn.Render("  No VM name or IP contains \""+safe(s.query)+"\"")+st.Dim.Render(" — esc clears the filter"))
		}
		return lines, cur
	}
	s.cursor = min(max(s.cursor, 0), len(s.shown)-1)
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+listH {
		s.offset = s.cursor - listH + 1
	}
	s.offset = min(max(s.offset, 0), max(len(s.shown)-listH, 0))
	end := min(s.offset+listH, len(s.shown))
	for i := s.offset; i < end; i++ {
		lines = append(lines, s.row(s.rows[s.shown[i]], c, w, i == s.cursor))
	}
	if h-len(lines) >= 1 {
		lines = block(lines, h-1)
		lines = append(lines, s.footer(w, end))
	}
	return lines, cur
}

func (s *vmsScreen) row(r vmRow, c vmCols, w int, sel bool) string {
	st := s.c.st
	name := fit(r.name, c.name)
	if s.query != "" && !sel && len(r.lower) == len(r.name) {
		if i := strings.Index(r.lower, s.query); i >= 0 && width(r.name[:i+len(s.query)]) <= c.name {
			j := i + len(s.query)
			name = r.name[:i] + st.Match.Render(r.name[i:j]) + fit(r.name[j:], c.name-width(r.name[:j]))
		}
	}
	state := r.vm.PowerState.String()
	stateCell := fit(state, c.state)
	if !r.vm.PowerState.Allocated() {
		stateCell = fit("⊘ "+state, c.state)
		if !sel {
			stateCell = st.Warn.Render(stateCell)
		}
	}
	marker := "  "
	if sel {
		marker = "▶ "
	}
	line := marker + name + "  " + stateCell
	if c.nics > 0 {
		line += "  " + fitLeft(itoa(r.nics), c.nics)
	}
	if c.ip > 0 {
		ip := r.ip
		if ip == "" {
			ip = "—"
		}
		line += "  " + fit(ip, c.ip)
	}
	if sel {
		return st.Selected.Render(fit(line, w))
	}
	return strings.TrimRight(line, " ")
}

// footer says where the list is and what enter does with the VM under the cursor.
func (s *vmsScreen) footer(w, end int) string {
	st := s.c.st
	pos := ""
	if len(s.shown) > s.pageH {
		pos = itoa(s.offset+1) + "–" + itoa(end) + " of " + itoa(len(s.shown))
	}
	vm := s.selected()
	text := ""
	if vm != nil {
		if !vm.PowerState.Allocated() {
			text = st.Warn.Render(trunc("⊘ "+safe(vm.Name)+" is "+vm.PowerState.String()+": IP flow verify needs an allocated VM", w-width(pos)-2))
		} else if n := vm.PrimaryNIC(); n != nil {
			if ipc := n.PrimaryIPConfig(); ipc != nil {
				text = st.Dim.Render(trunc(safe(n.Name)+" in "+safe(ipc.Subnet.Path()), w-width(pos)-2))
			}
		}
	}
	gap := w - width(text) - width(pos)
	if pos == "" || gap < 1 {
		return text
	}
	return text + strings.Repeat(" ", gap) + st.Dim.Render(pos)
}

// deallocatedMsg says why a VM cannot be checked.
func deallocatedMsg(vm *model.VM) string {
	return safe(vm.Name) + " is " + vm.PowerState.String() + ": IP flow verify requires that the VM is allocated (start it, or pick another VM)"
}
