package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
)

// Progress is how far loading the estate has got: the stage ("reading", "linking",
// "compiling") and, once read, how many files and bytes. Cached says the estate came from the
// snapshot cache: the files were unchanged, so they were only checked, not read and linked.
type Progress struct {
	Stage  string
	Files  int
	Bytes  int64
	Cached bool
}

// Loader loads and compiles the estate off the UI's goroutine, telling progress as it goes.
type Loader func(progress func(Progress)) (*engine.Engine, error)

// RunLoading runs the UI while load runs in the background: the first frame is a loading
// screen (drawn at once, whatever the estate's size) with the stage and what was read; keys
// typed meanwhile are kept and apply when the estate is ready. A load error ends the UI and is
// returned as is, for the caller to print once the terminal is restored.
func RunLoading(load Loader, start Start) error {
	m := newLoading(load, start)
	m.c.tmuxDrops = tmuxDropsCopies
	final, err := tea.NewProgram(m).Run()
	if err != nil {
		return err
	}
	if fm, ok := final.(Model); ok && fm.loading != nil && fm.loading.err != nil {
		return fm.loading.err
	}
	return nil
}

// loadingState is the UI before the estate is ready.
type loadingState struct {
	load    Loader
	start   Start
	ch      chan tea.Msg
	spin    spinner.Model
	prog    Progress
	pending []tea.Msg // keys and pastes typed while loading, replayed in order
	err     error
}

// firstFrameGrace is how long loading waits for the first frame to be drawn (60 fps: one
// frame is 17 ms).
const firstFrameGrace = 40 * time.Millisecond

type progressMsg Progress

type loadedMsg struct {
	eng *engine.Engine
	err error
}

func newLoading(load Loader, start Start) Model {
	c := &ctx{st: NewStyles(UnknownBackground), keys: DefaultKeyMap()}
	m := Model{c: c, help: help.New(), width: 80, height: 24}
	m.help.Styles = c.st.Help
	m.loading = &loadingState{load: load, start: start, ch: make(chan tea.Msg, 8),
		spin: spinner.New(spinner.WithSpinner(spinner.Dot)), prog: Progress{Stage: "reading"}}
	return m
}

// startLoad runs the loader in its own goroutine; progress and the result arrive on ch.
func (l *loadingState) startLoad() tea.Msg {
	go func() {
		eng, err := l.load(func(p Progress) {
			select {
			case l.ch <- progressMsg(p):
			default: // the UI is behind: skip this report, the next one says more
			}
		})
		l.ch <- loadedMsg{eng, err}
	}()
	return l.next()
}

// next waits for the loader's next message.
func (l *loadingState) next() tea.Msg { return <-l.ch }

// updateLoading handles a message while loading.
func (m Model) updateLoading(msg tea.Msg) (tea.Model, tea.Cmd) {
	l := m.loading
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 0), max(msg.Height, 0)
	case tea.BackgroundColorMsg:
		m.setTheme(msg.IsDark())
	case spinner.TickMsg:
		var cmd tea.Cmd
		l.spin, cmd = l.spin.Update(msg)
		return m, cmd
	case progressMsg:
		l.prog = Progress(msg)
		return m, l.next
	case loadedMsg:
		if msg.err != nil {
			l.err = msg.err
			m.quitting = true
			return m, tea.Quit
		}
		return m.ready(msg.eng)
	case tea.KeyPressMsg:
		if key.Matches(msg, m.c.keys.Force) {
			m.quitting = true
			return m, tea.Quit
		}
		l.pending = append(l.pending, msg)
	case tea.PasteMsg:
		l.pending = append(l.pending, msg)
	}
	return m, nil
}

// ready builds the UI on the loaded estate and applies the keys typed while loading.
func (m Model) ready(eng *engine.Engine) (tea.Model, tea.Cmd) {
	l := m.loading
	next := New(eng, l.start)
	next.c.st, next.c.bg, next.c.tmuxDrops = m.c.st, m.c.bg, m.c.tmuxDrops
	next.help.Styles = m.help.Styles
	next.width, next.height = m.width, m.height
	var tm tea.Model = next
	var cmds []tea.Cmd
	for _, k := range l.pending {
		var cmd tea.Cmd
		tm, cmd = tm.Update(k)
		cmds = append(cmds, cmd)
	}
	return tm, tea.Batch(cmds...)
}

// loadingView is the loading screen: the stages, done ones ticked, the current one spinning.
func (m Model) loadingView() string {
	st := m.c.st
	l := m.loading
	w := m.width
	lines := []string{st.App.Render("ipflow") + "  " + st.CrumbLast.Render("loading the estate"), ""}
	stages := []struct{ key, text string }{
		{"reading", "reading the fixtures"},
		{"linking", "linking: checking names and references"},
		{"compiling", "compiling the rule tables"},
	}
	cur := 0
	for i, s := range stages {
		if s.key == l.prog.Stage {
			cur = i
		}
	}
	for i, s := range stages {
		text := s.text
		if l.prog.Cached && i < 2 {
			text = []string{
				fmt.Sprintf("%s, %s: unchanged, loaded from the snapshot cache", plural(l.prog.Files, "file", "files"), byteSize(l.prog.Bytes)),
				"linking: done when the snapshot was made",
			}[i]
		} else if s.key == "reading" && l.prog.Files > 0 {
			// Counted as each file is read, so a many-file estate shows it moving.
			verb := "read"
			if i == cur {
				verb = "reading the fixtures: read"
			}
			text = fmt.Sprintf("%s %s, %s", verb, plural(l.prog.Files, "file", "files"), byteSize(l.prog.Bytes))
		}
		switch {
		case i < cur:
			lines = append(lines, "  "+st.Pass.Render("✓ ")+text)
		case i == cur:
			lines = append(lines, "  "+l.spin.View()+st.Title.Render(text)+"…")
		default:
			lines = append(lines, "  "+st.Faint.Render("· "+text))
		}
	}
	lines = append(lines, "")
	if n := len(l.pending); n > 0 {
		lines = append(lines, "  "+st.Dim.Render(plural(n, "key", "keys")+" typed: they apply when the estate is ready"))
	} else {
		lines = append(lines, "  "+st.Dim.Render("Keys typed now apply when the estate is ready; ctrl+c quits."))
	}
	var out []string
	for _, s := range lines {
		// Wrapped, never cut, keeping the line's indent (spaces outside any style).
		rest := strings.TrimLeft(s, " ")
		lead := len(s) - len(rest)
		for _, l := range wrap(rest, w-lead, 2) {
			out = append(out, strings.Repeat(" ", lead)+l)
		}
	}
	return strings.Join(block(out, min(len(out), m.height)), "\n")
}

// byteSize is "41.2 MB", "812 kB", "96 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%d kB", n/1e3)
	}
	return plural(int(n), "byte", "bytes")
}
