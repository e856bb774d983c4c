package tui

import (
	"net/netip"
	"strings"
	"sync"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/model"
)

// vmRow is one VM as the list shows it, computed once.
type vmRow struct {
	vm     *model.VM
	name   string // safe to draw
	ip     string // the primary NIC's primary IP, or ""
	subnet string // the primary IP configuration's subnet, VNET/SUBNET, safe to draw
	nics   int
	lower  string       // lower-cased name, for highlighting the match
	key    string       // what a text query searches, lower-cased: VM, NIC, subnet, VNet, NSG, ASG names
	ips    []netip.Addr // every private IP, for address queries
	ipText []string     // the same, as text, for prefix queries (10.1.)
}

// vmsScreen is the list of virtual machines with a filter. It renders only the rows on
// screen, so it stays instant with tens of thousands of VMs.
type vmsScreen struct {
	c     *ctx
	rows  []vmRow
	nameW int   // widest name, capped
	subW  int   // widest subnet, capped
	shown []int // indices into rows that match the filter
	list  scroller

	input     input
	filtering bool   // keys go to the filter
	query     string // the applied filter, lower-cased
}

func newVMs(c *ctx) *vmsScreen {
	t := vmTableFor(c.env)
	s := &vmsScreen{c: c, rows: t.rows, nameW: t.nameW, subW: t.subW}
	s.shown = make([]int, len(s.rows))
	for i := range s.shown {
		s.shown[i] = i
	}
	s.list.reset(len(s.shown))
	s.input = input{placeholder: "name, IP, 10.1., 10.1.0.0/16, subnet, VNet, NSG or ASG", limit: 200}
	return s
}

// vmTable is the VM list's rows for one estate. It depends on the estate alone and is never
// changed, so every UI on the same estate shares it: ipflow serve runs one UI per SSH
// session, and per-session rows would cost megabytes each on a 10,000-VM estate.
type vmTable struct {
	env         *model.Environment
	rows        []vmRow
	nameW, subW int
}

// lastVMTable caches the table of the estate most recently opened.
var lastVMTable struct {
	sync.Mutex
	t *vmTable
}

func vmTableFor(env *model.Environment) *vmTable {
	lastVMTable.Lock()
	defer lastVMTable.Unlock()
	if t := lastVMTable.t; t != nil && t.env == env {
		return t
	}
	t := newVMTable(env)
	lastVMTable.t = t
	return t
}

func newVMTable(env *model.Environment) *vmTable {
	t := &vmTable{env: env, rows: make([]vmRow, len(env.VMs))}
	var kb strings.Builder
	add := func(name string) {
		kb.WriteByte('\x00')
		kb.WriteString(strings.ToLower(name))
	}
	for i, vm := range env.VMs {
		r := vmRow{vm: vm, name: safe(vm.Name), nics: len(vm.NICs)}
		if n := vm.PrimaryNIC(); n != nil {
			if ipc := n.PrimaryIPConfig(); ipc != nil {
				r.ip = ipc.PrivateIP.String()
				if ipc.Subnet != nil {
					r.subnet = safe(ipc.Subnet.Path())
				}
			}
		}
		r.lower = strings.ToLower(r.name)
		kb.Reset()
		kb.WriteString(r.lower)
		for _, n := range vm.NICs {
			add(n.Name)
			if n.NSG != nil {
				add(n.NSG.Name)
			}
			for _, ipc := range n.IPConfigs {
				r.ips = append(r.ips, ipc.PrivateIP)
				r.ipText = append(r.ipText, ipc.PrivateIP.String())
				if ipc.Subnet != nil {
					add(ipc.Subnet.Path()) // matches the subnet and the VNet names
					if ipc.Subnet.NSG != nil {
						add(ipc.Subnet.NSG.Name)
					}
				}
				for _, a := range ipc.ASGs {
					add(a.Name)
				}
			}
		}
		r.key = kb.String()
		t.rows[i] = r
		t.nameW = max(t.nameW, width(r.name))
		t.subW = max(t.subW, width(r.subnet))
	}
	t.nameW = min(max(t.nameW, 4), 40)
	t.subW = min(max(t.subW, 6), 30)
	return t
}

func (s *vmsScreen) crumbs() []string { return []string{"VMs"} }

func (s *vmsScreen) typing() bool { return s.filtering }

func (s *vmsScreen) help() help.KeyMap {
	k := s.c.keys
	if s.filtering {
		keep := with(k.Keep, "enter", "keep filter")
		clear := with(k.Clear, "esc", "clear filter")
		return helpMap{
			short: []key.Binding{keep, clear, k.ArrowNav, k.Force},
			full:  [][]key.Binding{{keep, clear}, {k.ArrowNav}, {k.Force}},
		}
	}
	back := with(k.Back, "esc", "clear filter")
	sel := with(k.Select, "enter", "open VM's NICs")
	move := with(k.Down, "↑/↓", "move")
	short := []key.Binding{move, k.Select, k.Filter}
	if s.query != "" {
		short = append(short, back)
	}
	if len(s.c.env.Warnings) > 0 {
		short = append(short, k.Warnings)
	}
	short = append(short, k.Help, k.Quit)
	return helpMap{
		short: short,
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{sel, k.Filter, back, k.Warnings, k.Matrix, k.Lint},
			{k.Help, k.Quit, k.Force},
		},
	}
}

// selected is the VM under the cursor, or nil when the list is empty.
func (s *vmsScreen) selected() *model.VM {
	if s.list.cursor < 0 || s.list.cursor >= len(s.shown) {
		return nil
	}
	return s.rows[s.shown[s.list.cursor]].vm
}

// selectVM puts the cursor on vm, clearing the filter if it hides it.
func (s *vmsScreen) selectVM(vm *model.VM) {
	for pass := 0; pass < 2; pass++ {
		for i, idx := range s.shown {
			if s.rows[idx].vm == vm {
				s.list.set(i)
				return
			}
		}
		s.setQuery("")
		s.input.SetValue("")
	}
}

// clearFilter drops the query and keeps the cursor on the VM it was on.
func (s *vmsScreen) clearFilter() {
	vm := s.selected()
	s.input.SetValue("")
	s.setQuery("")
	if vm != nil {
		s.selectVM(vm)
	}
}

func (s *vmsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if s.filtering {
		if km, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(km, k.Keep):
				s.filtering = false
				s.input.Blur()
				return nil
			case key.Matches(km, k.Clear):
				s.filtering = false
				s.input.Blur()
				s.clearFilter()
				return nil
			case key.Matches(km, k.ArrowNav):
				s.list.move(km, k)
				return nil
			}
		}
		if s.input.Update(msg, k) {
			s.setQuery(s.input.Value())
		}
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Filter):
		// A new query: the kept one is selected, so the first key typed replaces it.
		s.filtering = true
		s.input.Focus()
		s.input.SelectAll()
	case key.Matches(km, k.Back):
		if s.query != "" {
			s.clearFilter()
		}
	case key.Matches(km, k.Select):
		if vm := s.selected(); vm != nil {
			m.push(newNICs(s.c, vm))
		}
	case key.Matches(km, k.Warnings):
		m.openWarnings()
	case key.Matches(km, k.Matrix):
		vms := make([]*model.VM, len(s.shown))
		for i, idx := range s.shown {
			vms[i] = s.rows[idx].vm
		}
		scr, cmd := newMatrix(s.c, vms)
		m.push(scr)
		return cmd
	case key.Matches(km, k.Lint):
		scr, cmd := newLint(s.c)
		m.push(scr)
		return cmd
	default:
		s.list.move(km, k)
	}
	return nil
}

// vmQuery is a parsed filter: an address prefix (10.1.0.0/16), the start of an address (10.1.),
// and always the text, matched against the names.
type vmQuery struct {
	text   string
	cidr   netip.Prefix // valid for a CIDR query
	ipText bool         // the query is the start of a dotted address
}

func parseVMQuery(q string) vmQuery {
	vq := vmQuery{text: q}
	if strings.Contains(q, "/") {
		if p, err := netip.ParsePrefix(q); err == nil && p.Addr().Is4() {
			vq.cidr = p.Masked()
		}
	}
	vq.ipText = q != "" && strings.Trim(q, "0123456789.") == ""
	return vq
}

func (q vmQuery) matches(r *vmRow) bool {
	if q.text == "" {
		return true
	}
	if q.cidr.IsValid() {
		for _, ip := range r.ips {
			if q.cidr.Contains(ip) {
				return true
			}
		}
		return false
	}
	if q.ipText {
		for _, ip := range r.ipText {
			if strings.HasPrefix(ip, q.text) {
				return true
			}
		}
	}
	return strings.Contains(r.key, q.text)
}

// setQuery applies a filter. A query that extends the previous one only searches the previous
// matches (narrowing holds for every kind of query but a CIDR, which is searched afresh).
func (s *vmsScreen) setQuery(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == s.query {
		return
	}
	vq := parseVMQuery(q)
	from := s.shown
	if s.query == "" || !strings.HasPrefix(q, s.query) || vq.cidr.IsValid() || strings.Contains(s.query, "/") {
		from = nil
	}
	s.query = q
	var out []int
	if from == nil {
		out = make([]int, 0, len(s.rows))
		for i := range s.rows {
			if vq.matches(&s.rows[i]) {
				out = append(out, i)
			}
		}
	} else {
		out = make([]int, 0, len(from))
		for _, i := range from {
			if vq.matches(&s.rows[i]) {
				out = append(out, i)
			}
		}
	}
	s.shown = out
	s.list.reset(len(out))
}

// Columns of the list; narrow terminals drop SUBNET, then NICS, then PRIMARY IP.
type vmCols struct{ name, state, nics, ip, subnet int }

func (s *vmsScreen) cols(w int) vmCols {
	c := vmCols{state: 13, nics: 4, ip: 15, subnet: s.subW}
	rest := w - 2 - c.state - 2 - c.nics - 2 - c.ip - 2 - c.subnet - 2
	need := min(s.nameW, 12)
	if rest < need {
		c.subnet = 0
		rest += s.subW + 2
	}
	if rest < need {
		c.nics = 0
		rest += 4 + 2
	}
	if rest < need {
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
	if c.subnet > 0 {
		hdr += "  " + fit("SUBNET", c.subnet)
	}
	lines = append(lines, st.Header.Render(strings.TrimRight(hdr, " ")))

	// Rows, then the footer about the VM under the cursor (wrapped: a name the column cuts is
	// there whole).
	foot := s.footer(w, c)
	listH := h - len(lines) - len(foot)
	if listH < 1 {
		foot = nil
		listH = max(h-len(lines), 0)
	}
	if len(s.shown) == 0 {
		if total == 0 {
			lines = append(lines, st.Dim.Render("  This environment has no VMs."))
		} else {
			for _, l := range wrap("No VM, NIC, IP, subnet, VNet, NSG or ASG matches \""+safe(s.query)+"\" — esc clears the filter", w-2, 0) {
				lines = append(lines, "  "+st.Warn.Render(l))
			}
		}
		return lines, cur
	}
	start, end := s.list.window(listH)
	for i := start; i < end; i++ {
		lines = append(lines, s.row(s.rows[s.shown[i]], c, w, i == s.list.cursor))
	}
	if len(foot) > 0 && h-len(lines) >= len(foot) {
		lines = block(lines, h-len(foot))
		last := len(foot) - 1
		if pos := s.list.position(start, end); pos != "" {
			if gap := w - width(foot[last]) - width(pos); gap >= 1 {
				foot[last] += strings.Repeat(" ", gap) + st.Dim.Render(pos)
			}
		}
		lines = append(lines, foot...)
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
	if c.subnet > 0 {
		line += "  " + fit(r.subnet, c.subnet)
	}
	if sel {
		return st.Selected.Render(fit(line, w))
	}
	return strings.TrimRight(line, " ")
}

// footer says what enter does with the VM under the cursor, wrapped to w with room for the
// list's position ("12–34 of 10,000") at the right of its last line; the VM's name comes first
// when the NAME column cuts it.
func (s *vmsScreen) footer(w int, c vmCols) []string {
	st := s.c.st
	vm := s.selected()
	if vm == nil {
		return []string{""}
	}
	n := itoa(len(s.shown))
	room := w - (2*len(n) + len(" of ") + 1 + len(n)) - 2
	name := ""
	if width(safe(vm.Name)) > c.name {
		name = safe(vm.Name) + ": "
	}
	text, style := "", st.Dim
	if !vm.PowerState.Allocated() {
		text, style = "⊘ "+safe(vm.Name)+" is "+vm.PowerState.String()+": IP flow verify needs an allocated VM", st.Warn
	} else if nic := vm.PrimaryNIC(); nic != nil {
		if ipc := nic.PrimaryIPConfig(); ipc != nil {
			text = name + safe(nic.Name) + " in " + safe(ipc.Subnet.Path())
		}
	}
	if text == "" {
		return []string{name}
	}
	var out []string
	for _, l := range wrap(text, max(room, w/2), 2) {
		out = append(out, style.Render(l))
	}
	return out
}

// deallocatedMsg says why a VM cannot be checked.
func deallocatedMsg(vm *model.VM) string {
	return safe(vm.Name) + " is " + vm.PowerState.String() + ": IP flow verify requires that the VM is allocated (start it, or pick another VM)"
}
