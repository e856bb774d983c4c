package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// warningsScreen lists the fixture warnings (what `ipflow check` prints): problems that do not
// stop evaluation but that users need to see, such as an NSG attached to nothing.
type warningsScreen struct {
	c     *ctx
	list  scroller
	lines []string
	heads []bool
	w     int
}

func newWarnings(c *ctx) *warningsScreen {
	s := &warningsScreen{c: c}
	s.list.selectable = func(i int) bool { return s.heads[i] }
	return s
}

func (s *warningsScreen) crumbs() []string { return []string{"warnings"} }

func (s *warningsScreen) typing() bool { return false }

func (s *warningsScreen) help() help.KeyMap {
	k := s.c.keys
	return helpMap{
		short: []key.Binding{with(k.Down, "↑/↓", "move"), k.Back, k.Help, k.Quit},
		full:  [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Back, k.Help, k.Quit, k.Force}},
	}
}

func (s *warningsScreen) layout(w int) {
	if s.lines != nil && s.w == w {
		return
	}
	cur := 0
	for i := 0; i < s.list.cursor && i < len(s.heads); i++ {
		if s.heads[i] {
			cur++
		}
	}
	s.w, s.lines, s.heads = w, nil, nil
	for i, is := range s.c.env.Warnings {
		for j, l := range wrap("⚠ "+safe(is.String()), w, 2) {
			if j == 0 && i == cur {
				s.list.cursor = len(s.lines)
			}
			s.lines = append(s.lines, l)
			s.heads = append(s.heads, j == 0)
		}
	}
	s.list.n = len(s.lines)
	if len(s.lines) == 0 {
		s.list.cursor = -1
	}
}

func (s *warningsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if key.Matches(km, s.c.keys.Back) {
		m.pop()
		return nil
	}
	s.layout(max(s.w, m.width, 1))
	s.list.move(km, s.c.keys)
	return nil
}

func (s *warningsScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	n := len(s.c.env.Warnings)
	lines := []string{st.Title.Render("Fixture warnings") + "  " + st.Dim.Render(plural(n, "warning", "warnings")+" · as ipflow check prints them")}
	if n == 0 {
		return append(lines, st.Dim.Render("  The fixtures loaded without warnings.")), nil
	}
	s.layout(w)
	start, end := s.list.window(h - 1)
	for i := start; i < end; i++ {
		l := s.lines[i]
		if i == s.list.cursor {
			l = st.Selected.Render(fit(l, w))
		} else {
			l = st.Warn.Render(l)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// openWarnings lists the fixture warnings, unless that is the screen already shown.
func (m *Model) openWarnings() {
	if _, ok := m.top().(*warningsScreen); !ok {
		m.push(newWarnings(m.c))
	}
}
