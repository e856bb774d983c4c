package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/model"
)

// nicsScreen lists a VM's network interfaces: name, NSG, and per IP configuration its address,
// subnet, the subnet's NSG and its ASGs. Each NIC is a small card of lines in the one scroller;
// only a card's first line takes the cursor.
type nicsScreen struct {
	c     *ctx
	vm    *model.VM
	nic   int // the selected NIC
	list  scroller
	heads []int // first line of each card at the last layout
	w     int   // width of the last layout
}

func newNICs(c *ctx, vm *model.VM) *nicsScreen {
	s := &nicsScreen{c: c, vm: vm, w: 80}
	s.list.selectable = func(i int) bool { return slices.Contains(s.heads, i) }
	return s
}

func (s *nicsScreen) crumbs() []string { return []string{safe(s.vm.Name)} }

func (s *nicsScreen) typing() bool { return false }

func (s *nicsScreen) help() help.KeyMap {
	k := s.c.keys
	sel := with(k.Select, "enter", "flow form")
	return helpMap{
		short: []key.Binding{with(k.Down, "↑/↓", "move"), sel, k.Effective, k.Reach, k.Back, k.Help, k.Quit},
		full:  [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {sel, k.Effective, k.Reach, k.Back, k.Warnings}, {k.Help, k.Quit, k.Force}},
	}
}

func (s *nicsScreen) selectNIC(n *model.NIC) {
	if i := slices.Index(s.vm.NICs, n); i >= 0 {
		s.nic = i
	}
}

func (s *nicsScreen) selected() *model.NIC {
	if s.nic < 0 || s.nic >= len(s.vm.NICs) {
		return nil
	}
	return s.vm.NICs[s.nic]
}

func (s *nicsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := s.c.keys
	switch {
	case key.Matches(km, k.Back):
		m.pop()
	case key.Matches(km, k.Select):
		nic := s.selected()
		switch {
		case nic == nil:
		case !s.vm.PowerState.Allocated():
			m.setStatus(deallocatedMsg(s.vm), true)
		case len(nic.IPConfigs) == 0:
			m.setStatus(safe(nic.Name)+" has no IP configuration to check", true)
		default:
			m.push(newForm(s.c, s.vm, nic))
		}
	case key.Matches(km, k.Effective):
		if nic := s.selected(); nic != nil {
			m.openEffective(s.vm, nic)
		}
	case key.Matches(km, k.Reach):
		if nic := s.selected(); nic != nil {
			m.push(newReach(s.c, s.vm, nic))
		}
	case key.Matches(km, k.Warnings):
		m.openWarnings()
	default:
		s.layout(s.w)
		if s.list.move(km, k) {
			s.nic = max(slices.Index(s.heads, s.list.cursor), 0)
		}
	}
	return nil
}

// layout draws every card at width w and points the scroller at the selected one.
func (s *nicsScreen) layout(w int) []string {
	s.w = w
	var all []string
	s.heads = s.heads[:0]
	for i, n := range s.vm.NICs {
		s.heads = append(s.heads, len(all))
		all = append(all, s.card(n, w, i == s.nic)...)
		all = append(all, "")
	}
	s.list.n = len(all)
	if s.nic < len(s.heads) {
		s.list.cursor = s.heads[s.nic]
	}
	return all
}

// card draws one NIC in lines of at most w cells.
func (s *nicsScreen) card(n *model.NIC, w int, sel bool) []string {
	st := s.c.st
	var tags []string
	if n == s.vm.PrimaryNIC() {
		tags = append(tags, "primary")
	}
	if n.IPForwarding {
		tags = append(tags, "IP forwarding")
	}
	head := safe(n.Name)
	if len(tags) > 0 {
		head += "  (" + strings.Join(tags, ", ") + ")"
	}
	var first string
	if sel {
		first = st.Selected.Render(fit("▶ "+head, w))
	} else {
		first = "  " + st.Title.Render(trunc(head, w-2))
	}
	nsg := st.Faint.Render("none")
	if n.NSG != nil {
		nsg = safe(n.NSG.Name)
	}
	lines := []string{first, trunc("    "+st.Label.Render("NSG on NIC  ")+nsg, w)}
	nameW := 0
	for _, c := range n.IPConfigs {
		nameW = max(nameW, width(safe(c.Name)))
	}
	nameW = min(nameW, 20)
	ipW := 7
	for _, c := range n.IPConfigs {
		ipW = max(ipW, len(c.PrivateIP.String()))
	}
	type cfgLine struct{ head, sub, rest string }
	cfgs := make([]cfgLine, 0, len(n.IPConfigs))
	oneLine := true
	for _, c := range n.IPConfigs {
		name := safe(c.Name)
		if c == n.PrimaryIPConfig() && len(n.IPConfigs) > 1 {
			name += "*"
		}
		sub := "subnet " + safe(c.Subnet.Path())
		rest := "no subnet NSG"
		if c.Subnet.NSG != nil {
			rest = "subnet NSG " + safe(c.Subnet.NSG.Name)
		}
		if len(c.ASGs) > 0 {
			names := make([]string, len(c.ASGs))
			for i, a := range c.ASGs {
				names[i] = safe(a.Name)
			}
			label := "ASG "
			if len(names) > 1 {
				label = "ASGs "
			}
			rest += " · " + label + strings.Join(names, ", ")
		}
		head := "    " + fit(name, nameW+1) + " " + fit(c.PrivateIP.String(), ipW) + "  "
		if width(head+sub+" · "+rest) > w {
			oneLine = false
		}
		cfgs = append(cfgs, cfgLine{head, sub, rest})
	}
	// One line per IP configuration when they all fit, else the subnet's NSG and the ASGs go on
	// a second line for each, so the columns stay aligned.
	for _, c := range cfgs {
		if oneLine {
			lines = append(lines, c.head+st.Dim.Render(c.sub+" · "+c.rest))
			continue
		}
		// Too narrow for one line: the subnet, then the NSG and ASGs wrapped below, never cut.
		ind := width(c.head)
		if w-ind < 24 {
			ind = 6
		}
		for i, l := range wrap(c.sub, w-width(c.head), 0) {
			if i == 0 {
				lines = append(lines, c.head+st.Dim.Render(l))
			} else {
				lines = append(lines, strings.Repeat(" ", width(c.head))+st.Dim.Render(l))
			}
		}
		for _, l := range wrap(c.rest, w-ind, 0) {
			lines = append(lines, strings.Repeat(" ", ind)+st.Dim.Render(l))
		}
	}
	return lines
}

func (s *nicsScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	vm := s.vm
	// The VM's name whole, wrapped when long: never cut.
	var lines []string
	for _, l := range wrap("Network interfaces of "+safe(vm.Name)+"  "+plural(len(vm.NICs), "NIC", "NICs")+" · "+vm.PowerState.String(), w, 2) {
		lines = append(lines, st.Title.Render(l))
	}
	if !vm.PowerState.Allocated() {
		for _, l := range wrap("⊘ "+deallocatedMsg(vm)+"; its NICs are shown for reference.", w, 2) {
			lines = append(lines, st.Warn.Render(l))
		}
	}
	lines = append(lines, "")
	if len(vm.NICs) == 0 {
		return append(lines, st.Dim.Render("  This VM has no network interfaces.")), nil
	}
	all := s.layout(w)
	multi := false
	for _, n := range vm.NICs {
		multi = multi || len(n.IPConfigs) > 1
	}
	var footer []string
	if multi {
		for _, l := range wrap("* primary IP configuration; the form accepts any of a NIC's IPs", w, 2) {
			footer = append(footer, st.Faint.Render(l))
		}
	}
	listH := h - len(lines) - len(footer)
	start, end := s.list.window(max(listH, 1))
	lines = append(lines, all[start:end]...)
	if len(footer) > 0 {
		lines = append(block(lines, h-len(footer)), footer...)
	}
	return lines, nil
}
