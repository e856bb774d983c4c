package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// pagerScreen shows a text whole, wrapped to the terminal and scrolled with the list keys: what
// a small terminal cannot show in full where it belongs (the selected step of a verdict, a rule
// of a table, a long status line). i opens it; esc goes back.
type pagerScreen struct {
	c     *ctx
	crumb string
	text  func(w int) []string // the lines, wrapped to w (styled as they are elsewhere)
	lines []string
	w     int
	list  scroller
}

func newPager(c *ctx, crumb string, text func(w int) []string) *pagerScreen {
	p := &pagerScreen{c: c, crumb: crumb, text: text}
	p.list.selectable = func(int) bool { return false }
	p.list.cursor = -1
	return p
}

// statusText is the status line's text, wrapped to w, for a pager.
func statusText(status string) func(w int) []string {
	return func(w int) []string {
		var out []string
		for _, para := range strings.Split(status, "\n") {
			out = append(out, wrap(para, w, 2)...)
		}
		return out
	}
}

func (p *pagerScreen) crumbs() []string { return []string{p.crumb} }

func (p *pagerScreen) typing() bool { return false }

func (p *pagerScreen) help() help.KeyMap {
	k := p.c.keys
	return helpMap{
		short: []key.Binding{with(k.Down, "↑/↓", "scroll"), k.Back, k.Help, k.Quit},
		full:  [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Back, k.Help, k.Quit, k.Force}},
	}
}

func (p *pagerScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if key.Matches(km, p.c.keys.Back) || key.Matches(km, p.c.keys.Full) {
		m.pop()
		return nil
	}
	p.list.scroll(km, p.c.keys)
	return nil
}

func (p *pagerScreen) view(w, h int) ([]string, *tea.Cursor) {
	if p.lines == nil || p.w != w {
		p.lines, p.w = p.text(w), w
		p.list.n = len(p.lines)
	}
	bodyH := h
	if len(p.lines) > h {
		bodyH = h - 1 // the last line says where the window is
	}
	start, end := p.list.window(max(bodyH, 1))
	out := append([]string(nil), p.lines[start:end]...)
	if pos := p.list.position(start, end); pos != "" && bodyH < h {
		out = block(out, bodyH)
		out = append(out, p.c.st.Dim.Render(fitLeft(pos+" · ↑/↓ scroll", w)))
	}
	return out, nil
}
