package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/model"
)

// nicsScreen lists a VM's network interfaces: name, NSG, and per IP configuration its address,
// subnet, the subnet's NSG and its ASGs. Each NIC is a small card; the list scrolls by line.
type nicsScreen struct {
	c      *ctx
	vm     *model.VM
	cursor int
	offset int // first line of the cards on screen
	pageH  int
}

func newNICs(c *ctx, vm *model.VM) *nicsScreen { return &nicsScreen{c: c, vm: vm} }

func (s *nicsScreen) crumbs() []string { return []string{safe(s.vm.Name)} }

func (s *nicsScreen) typing() bool { return false }

func (s *nicsScreen) help() help.KeyMap {
	k := s.c.keys
	sel := k.Select
	sel.SetHelp("enter", "flow form")
	return helpMap{
		short: []key.Binding{key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")), sel, k.Back, k.Help, k.Quit},
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {sel, k.Back}, {k.Help, k.Quit, k.Force}},
	}
}

func (s *nicsScreen) selectNIC(n *model.NIC) {
	for i, x := range s.vm.NICs {
		if x == n {
			s.cursor = i
		}
	}
}

func (s *nicsScreen) selected() *model.NIC {
	if s.cursor < 0 || s.cursor >= len(s.vm.NICs) {
		return nil
	}
	return s.vm.NICs[s.cursor]
}

func (s *nicsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := s.c.keys
	n := len(s.vm.NICs)
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
	case key.Matches(km, k.Up):
		s.cursor--
	case key.Matches(km, k.Down):
		s.cursor++
	case key.Matches(km, k.PageUp):
		s.cursor -= max(s.pageH/3, 1)
	case key.Matches(km, k.PageDown):
		s.cursor += max(s.pageH/3, 1)
	case key.Matches(km, k.Top):
		s.cursor = 0
	case key.Matches(km, k.Bottom):
		s.cursor = n - 1
	}
	s.cursor = min(max(s.cursor, 0), max(n-1, 0))
	return nil
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
		lines = append(lines, trunc(c.head+st.Dim.Render(c.sub), w))
		lines = append(lines, trunc(strings.Repeat(" ", width(c.head))+st.Dim.Render(c.rest), w))
	}
	return lines
}

func (s *nicsScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	vm := s.vm
	lines := []string{st.Title.Render(trunc("Network interfaces of "+safe(vm.Name), w-14)) + "  " +
		st.Dim.Render(plural(len(vm.NICs), "NIC", "NICs")+" · "+vm.PowerState.String())}
	if !vm.PowerState.Allocated() {
		for _, l := range wrap("⊘ "+deallocatedMsg(vm)+"; its NICs are shown for reference.", w, 2) {
			lines = append(lines, st.Warn.Render(l))
		}
	}
	lines = append(lines, "")
	if len(vm.NICs) == 0 {
		return append(lines, st.Dim.Render("  This VM has no network interfaces.")), nil
	}
	// Lay out every card, then show the window of lines that holds the selected one.
	var all []string
	start, end := 0, 0
	multi := false
	for i, n := range vm.NICs {
		if i == s.cursor {
			start = len(all)
		}
		all = append(all, s.card(n, w, i == s.cursor)...)
		if i == s.cursor {
			end = len(all)
		}
		if len(n.IPConfigs) > 1 {
			multi = true
		}
		all = append(all, "")
	}
	footer := ""
	if multi {
		footer = st.Faint.Render(trunc("* primary IP configuration; the form accepts any of a NIC's IPs", w))
	}
	listH := h - len(lines)
	if footer != "" {
		listH--
	}
	listH = max(listH, 1)
	s.pageH = listH
	if start < s.offset {
		s.offset = start
	}
	if end > s.offset+listH {
		s.offset = min(end-listH, start)
	}
	s.offset = min(max(s.offset, 0), max(len(all)-listH, 0))
	lines = append(lines, all[s.offset:min(s.offset+listH, len(all))]...)
	if footer != "" {
		lines = append(block(lines, h-1), footer)
	}
	return lines, nil
}
