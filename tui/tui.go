// Package tui is ipflow's terminal UI: pick a VM, pick a NIC, enter a flow, and read the verdict
// with its whole rule chain, stepping rule by rule through the trace.
//
// The root Model holds a stack of screens (VMs › NICs › flow form › verdict); each screen lives
// in its own file and draws only its body. The root draws the breadcrumb, the status line and
// the help, handles resizes, the background colour and the keys that work everywhere, and shows
// a "terminal too small" frame below MinWidth×MinHeight. Every verdict comes from engine.
package tui

import (
	"os"
	"os/exec"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
)

// The smallest terminal the UI draws in; below it shows a "terminal too small" frame. 50×12
// fits the form's six fields with their marks and a verdict banner with a few rows of chain.
const (
	MinWidth  = 50
	MinHeight = 12
)

// Start says where the UI opens: the VM list (zero value), a VM's NICs (VM), a NIC's flow form
// (VM and NIC), or straight on a verdict (Flow, complete, as from the command-line flags).
type Start struct {
	VM, NIC string
	Flow    *engine.Flow
	// WhatIf are change-set files applied, as the what-if sandbox's first step, before the
	// UI opens (ipflow --what-if FILE).
	WhatIf []model.Source
}

// Run runs the UI until the user quits. It draws on the alternate screen with mouse capture
// off (so text can be selected), and never waits on terminal queries: the background colour
// is requested asynchronously and dark-safe styles are used until it answers.
func Run(eng *engine.Engine, start Start) error {
	m := New(eng, start)
	m.c.tmuxDrops = tmuxDropsCopies
	_, err := tea.NewProgram(m).Run()
	return err
}

// tmuxDropsCopies reports whether the tmux this process runs in drops a copy (OSC 52): tmux
// passes one on only with set-clipboard on (its default, external, drops it). It runs tmux, so
// it is asked at the first copy, never before the first frame.
func tmuxDropsCopies() bool {
	if os.Getenv("TMUX") == "" {
		return false
	}
	out, err := exec.Command("tmux", "show-options", "-sv", "set-clipboard").Output()
	return err != nil || strings.TrimSpace(string(out)) != "on"
}

// ctx is what every screen shares: the engine, the styles and the keys.
type ctx struct {
	eng  *engine.Engine
	env  *model.Environment
	st   *Styles
	keys *KeyMap
	bg   Background
	host Hosted             // set when a server runs this UI (hosted.go)
	last *engine.Flow       // the flow last checked: a new NIC's form starts from it
	an   *analysis.Analyzer // made on first use (analysis.go)
	sb   *sandbox           // the what-if in effect (sandbox.go); nil without one
	// tmuxDrops, if set, reports whether a copy (OSC 52) would be dropped by the tmux the UI
	// runs in (tmuxDropsCopies); unset where the UI's tmux is not this process's (a served
	// session). Asked once, at the first copy.
	tmuxDrops func() bool
	dropped   *bool // its answer
}

// screen is one page of the UI. update may push or pop screens and set the status through m.
type screen interface {
	// crumbs are this screen's breadcrumb segments.
	crumbs() []string
	// update handles a key press or paste.
	update(m *Model, msg tea.Msg) tea.Cmd
	// view draws the body in at most w×h cells, and where the cursor is (nil: hidden).
	view(w, h int) ([]string, *tea.Cursor)
	// help is the screen's key help.
	help() help.KeyMap
	// typing reports whether keys go into a text field (then q and ? type).
	typing() bool
}

// Model is the root model.
type Model struct {
	c        *ctx
	stack    []screen
	help     help.Model
	width    int
	height   int
	status   string
	isErr    bool
	quitting bool
	loading  *loadingState // until the estate is ready (RunLoading); nil after
}

// New builds the UI for an engine, opening where start says.
func New(eng *engine.Engine, start Start) Model {
	c := &ctx{eng: eng, env: eng.Environment(), st: NewStyles(UnknownBackground), keys: DefaultKeyMap()}
	m := Model{c: c, help: help.New(), width: 80, height: 24}
	m.help.Styles = c.st.Help
	m.stack = []screen{newVMs(c)}
	m.startWhatIf(start.WhatIf)
	m.open(start)
	return m
}

// Init asks the terminal for its background colour; the answer, if any, arrives as a message.
func (m Model) Init() tea.Cmd {
	if l := m.loading; l != nil {
		// The load starts a frame later: reading and linking a large estate take both cores,
		// and the loading screen must reach the terminal first.
		start := tea.Tick(firstFrameGrace, func(time.Time) tea.Msg { return l.startLoad() })
		return tea.Batch(tea.RequestBackgroundColor, l.spin.Tick, start)
	}
	return tea.RequestBackgroundColor
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.loading != nil {
		return m.updateLoading(msg)
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 0), max(msg.Height, 0)
		return m, nil
	case tea.BackgroundColorMsg:
		m.setTheme(msg.IsDark())
		return m, nil
	case done:
		msg()
		return m, nil
	case Notice:
		m.setStatus(safe(string(msg)), false)
		return m, nil
	case tea.PasteMsg:
		if m.tooSmall() {
			return m, nil
		}
		return m, m.top().update(&m, msg)
	case tea.KeyPressMsg:
		if key.Matches(msg, m.c.keys.BackTwice) {
			// Two quick escs reach us as one alt+esc: go back twice, as the user pressed.
			esc := tea.KeyPressMsg{Code: tea.KeyEscape}
			next, first := m.key(esc)
			after := next.(Model)
			last, second := after.key(esc)
			return last, tea.Batch(first, second)
		}
		return m.key(msg)
	}
	return m, nil
}

func (m *Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.c.keys
	if key.Matches(msg, k.Force) {
		m.quitting = true
		return *m, tea.Quit
	}
	top := m.top()
	if !top.typing() || m.tooSmall() {
		switch {
		case key.Matches(msg, k.Quit):
			if !m.quitKey() {
				return *m, nil
			}
			m.quitting = true
			return *m, tea.Quit
		case key.Matches(msg, k.Help):
			m.help.ShowAll = !m.help.ShowAll
			return *m, nil
		}
	}
	if m.tooSmall() {
		return *m, nil
	}
	_, onForm := top.(*formScreen) // where i picks Inbound or ICMP
	if !top.typing() && !onForm && key.Matches(msg, k.Full) && len(m.statusLines(m.width)) > m.statusMax() {
		// The status was cut: show it whole.
		mark := "✓ "
		if m.isErr {
			mark = "✗ "
		}
		m.push(newPager(m.c, "message", statusText(mark+m.status)))
		m.status, m.isErr = "", false
		return *m, nil
	}
	m.status, m.isErr = "", false
	if m.c.sb != nil {
		m.c.sb.quitArmed = false
	}
	cmd := top.update(m, msg)
	return *m, cmd
}

func (m *Model) setTheme(isDark bool) {
	m.c.bg = LightBackground
	if isDark {
		m.c.bg = DarkBackground
	}
	m.c.st = NewStyles(m.c.bg)
	m.help.Styles = m.c.st.Help
	for _, s := range m.stack {
		if t, ok := s.(interface{ restyle() }); ok {
			t.restyle()
		}
	}
}

func (m *Model) top() screen { return m.stack[len(m.stack)-1] }

func (m *Model) push(s screen) { m.stack = append(m.stack, s) }

// pop goes back one screen; the first screen stays.
func (m *Model) pop() {
	if len(m.stack) > 1 {
		m.stack[len(m.stack)-1] = nil
		m.stack = m.stack[:len(m.stack)-1]
	}
}

// setStatus shows a message on the status line until the next key.
func (m *Model) setStatus(s string, isErr bool) { m.status, m.isErr = s, isErr }

func (m Model) tooSmall() bool { return m.width < MinWidth || m.height < MinHeight }

// screenName names the current screen: "vms", "nics", "form", "verdict", "rules" or
// "warnings".
func (m Model) screenName() string {
	if len(m.stack) == 0 {
		return "" // loading
	}
	switch m.top().(type) {
	case *vmsScreen:
		return "vms"
	case *nicsScreen:
		return "nics"
	case *formScreen:
		return "form"
	case *verdictScreen:
		return "verdict"
	case *rulesScreen:
		return "rules"
	case *warningsScreen:
		return "warnings"
	case *pagerScreen:
		return "pager"
	case *reachScreen:
		return "reach"
	case *matrixScreen:
		return "matrix"
	case *lintScreen:
		return "lint"
	case *suggestionsScreen:
		return "suggestions"
	case *changesScreen:
		return "changes"
	case *ruleEditScreen:
		return "ruleedit"
	}
	return ""
}

// result is the verdict on screen, or nil when the current screen is not a verdict.
func (m Model) result() *engine.Result {
	if len(m.stack) == 0 {
		return nil
	}
	if v, ok := m.top().(*verdictScreen); ok {
		return v.res
	}
	return nil
}

// copied is how a copy of what is reported: a terminal never answers OSC 52, so the UI
// cannot confirm a copy arrived and says "sent", never "copied"; inside a tmux known to drop
// it, it says so and how to fix it.
func (m *Model) copied(what string) string {
	note := ""
	if c := m.c; c.tmuxDrops != nil {
		if c.dropped == nil {
			d := c.tmuxDrops()
			c.dropped = &d
		}
		if *c.dropped {
			note = "; tmux drops it: set -s set-clipboard on"
		}
	}
	return "Sent " + what + " to the terminal's clipboard (OSC 52" + note + ")"
}

// View draws the frame: breadcrumb, the screen's body, the status line and the help.
func (m Model) View() tea.View {
	v := tea.View{AltScreen: true}
	if m.quitting {
		return v
	}
	w, h := m.width, m.height
	if m.loading != nil {
		v.Content = m.loadingView()
		return v
	}
	if m.tooSmall() {
		v.Content = m.tooSmallView()
		return v
	}
	st := m.c.st

	m.help.SetWidth(w)
	helpView := m.help.View(m.top().help())
	helpLines := strings.Split(helpView, "\n")
	if len(helpLines) > h/2 {
		helpLines = helpLines[:h/2]
	}

	statusLines := m.statusLines(w)
	if limit := m.statusMax(); len(statusLines) > limit {
		// Cut, and said so: i shows the whole message.
		more := plural(len(statusLines)-limit+1, "more line", "more lines")
		if _, onForm := m.top().(*formScreen); onForm {
			more += ": a wider or taller terminal shows them" // i types there
		} else {
			more += ": i shows it all"
		}
		statusLines = append(statusLines[:limit-1:limit-1], st.Dim.Render("  … "+more))
	}
	bodyH := h - 1 - len(helpLines) - len(statusLines)
	body, cur := m.top().view(w, bodyH)
	body = block(body, bodyH)

	lines := make([]string, 0, h)
	lines = append(lines, m.header(w))
	lines = append(lines, body...)
	lines = append(lines, statusLines...)
	lines = append(lines, helpLines...)
	for i, l := range lines {
		lines[i] = trunc(l, w)
	}
	v.Content = strings.Join(lines, "\n")
	if cur != nil {
		cur.Y++
		v.Cursor = cur
	}
	return v
}

// statusLines is the status message wrapped to w, styled, with its mark.
func (m Model) statusLines(w int) []string {
	if m.status == "" {
		return nil
	}
	st := m.c.st
	style, mark := st.Status, "✓ "
	if m.isErr {
		style, mark = st.StatusErr, "✗ "
	}
	var out []string
	for _, para := range strings.Split(mark+m.status, "\n") {
		for _, l := range wrap(para, w, 2) {
			out = append(out, style.Render(l))
		}
	}
	return out
}

// statusMax is how many lines the status may take: a third of the screen, at least two.
func (m Model) statusMax() int { return max(m.height/3, 2) }

// header is "ipflow  VMs › web-01 › web-01-nic › flow › verdict", with the environment's
// name at the right when it fits.
func (m Model) header(w int) string {
	st := m.c.st
	var segs []string
	for _, s := range m.stack {
		segs = append(segs, s.crumbs()...)
	}
	const app = "ipflow"
	tag := m.whatIfTag()
	avail := w - len(app) - 2 - width(tag)
	crumb := strings.Join(segs, " › ")
	if width(crumb) > avail {
		crumb = truncLeft(crumb, avail)
	}
	// Style the last segment; the rest is dim.
	last := segs[len(segs)-1]
	styled := st.Crumb.Render(strings.TrimSuffix(crumb, last)) + st.CrumbLast.Render(last)
	if !strings.HasSuffix(crumb, last) {
		styled = st.CrumbLast.Render(crumb)
	}
	out := st.App.Render(app) + tag + "  " + styled
	right := safe(m.c.env.Name)
	if n := len(m.c.env.Warnings); n > 0 {
		// The fixture warnings, always in sight: w lists them.
		warn := "⚠ " + plural(n, "warning", "warnings") + " (w)"
		if right != "" && width(out)+width(warn)+width(right)+7 <= w {
			right = warn + " · " + right
		} else {
			right = warn
		}
	}
	if right != "" {
		if gap := w - width(out) - width(right) - 2; gap >= 2 {
			out += strings.Repeat(" ", gap+2) + st.Dim.Render(right)
		}
	}
	return out
}

func (m Model) tooSmallView() string {
	w, h := m.width, m.height
	msg := []string{
		"Terminal too small",
		"ipflow needs " + itoa(MinWidth) + "×" + itoa(MinHeight) + ",",
		"this is " + itoa(w) + "×" + itoa(h) + ".",
		"Enlarge it, or press q to quit.",
	}
	lines := make([]string, 0, h)
	top := max((h-len(msg))/2, 0)
	for i := 0; i < top; i++ {
		lines = append(lines, "")
	}
	for i, s := range msg {
		if len(lines) >= h {
			break
		}
		s = trunc(s, w)
		pad := max((w-width(s))/2, 0)
		s = strings.Repeat(" ", pad) + s
		if i == 0 {
			s = m.c.st.Title.Render(s)
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n")
}
