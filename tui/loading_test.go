package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"ipflow/engine"
)

// While the estate loads, the loading screen says what was read and which stage runs; keys
// typed meanwhile apply, in order, once it is ready.
func TestLoadingKeepsKeysAndOpensWhenReady(t *testing.T) {
	eng := sampleEngine(t)
	never := func(func(Progress)) (*engine.Engine, error) { select {} }
	var m tea.Model = newLoading(never, Start{})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	mustContain(t, m, "loading the estate", "reading the fixtures", "ctrl+c quits")
	// Files and bytes count up as each file is read.
	m, _ = m.Update(progressMsg{Stage: "reading", Files: 1, Bytes: 7_000_000})
	mustContain(t, m, "reading the fixtures: read 1 file, 7.0 MB")
	m, _ = m.Update(progressMsg{Stage: "reading", Files: 2, Bytes: 14_500_000})
	mustContain(t, m, "reading the fixtures: read 2 files, 14.5 MB")
	m, cmd := m.Update(progressMsg{Stage: "linking", Files: 3, Bytes: 21_741_074})
	if cmd == nil {
		t.Fatal("a progress report does not wait for the next one")
	}
	mustContain(t, m, "✓ read 3 files, 21.7 MB", "linking: checking names and references")
	m = send(t, m, "/")
	m = typeText(m, "db")
	m = send(t, m, "enter", "enter")
	mustContain(t, m, "5 keys typed")
	if screenOf(m) != "" {
		t.Fatalf("a screen %q before the estate is ready", screenOf(m))
	}
	m, _ = m.Update(loadedMsg{eng: eng})
	if screenOf(m) != "nics" {
		t.Fatalf("keys typed while loading: on %q, want db-01's NICs", screenOf(m))
	}
	mustContain(t, m, "VMs › db-01", "db-01-nic")
	checkFrame(t, m, 80, 24)
}

// TestLoadingFromTheSnapshot: an estate from the snapshot cache says so: its files were only
// checked, and linking was done when the snapshot was made.
func TestLoadingFromTheSnapshot(t *testing.T) {
	never := func(func(Progress)) (*engine.Engine, error) { select {} }
	var m tea.Model = newLoading(never, Start{})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = m.Update(progressMsg{Stage: "compiling", Files: 1, Bytes: 21_741_074, Cached: true})
	mustContain(t, m, "✓ 1 file, 21.7 MB: unchanged, loaded from the snapshot cache", "✓ linking: done when the snapshot was made", "compiling the rule tables…")
	checkFrame(t, m, 80, 24)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 50, Height: 12})
	mustContain(t, m, "snapshot cache")
	checkFrame(t, m, 50, 12)
}

func TestLoadingErrorQuitsWithIt(t *testing.T) {
	never := func(func(Progress)) (*engine.Engine, error) { select {} }
	var m tea.Model = newLoading(never, Start{})
	want := errors.New("cannot read nope.toml: no such file")
	m, cmd := m.Update(loadedMsg{err: want})
	if !isQuit(cmd) {
		t.Fatal("a load error does not end the UI")
	}
	if got := m.(Model).loading.err; got != want {
		t.Fatalf("error %v, want %v", got, want)
	}
	// ctrl+c quits while loading; q is a key typed for later.
	m = newLoading(never, Start{})
	if _, cmd := m.Update(keyMsg("q")); isQuit(cmd) {
		t.Fatal("q quit while loading")
	}
	if _, cmd := m.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Fatal("ctrl+c does not quit while loading")
	}
}

// The loader runs off the UI goroutine and reports through messages.
func TestLoadingRunsTheLoader(t *testing.T) {
	eng := sampleEngine(t)
	load := func(progress func(Progress)) (*engine.Engine, error) {
		progress(Progress{Stage: "compiling", Files: 1, Bytes: 10})
		return eng, nil
	}
	m := newLoading(load, Start{})
	msg := m.loading.startLoad()
	if p, ok := msg.(progressMsg); !ok || p.Stage != "compiling" {
		t.Fatalf("first message %#v", msg)
	}
	if done, ok := m.loading.next().(loadedMsg); !ok || done.eng != eng {
		t.Fatalf("last message %#v", done)
	}
}

func TestGoldenLoading(t *testing.T) {
	never := func(func(Progress)) (*engine.Engine, error) { select {} }
	for _, size := range []struct{ w, h int }{{80, 24}, {MinWidth, MinHeight}} {
		t.Run(itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
			var m tea.Model = newLoading(never, Start{})
			m, _ = m.Update(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			m, _ = m.Update(progressMsg{Stage: "compiling", Files: 1, Bytes: 21_741_074})
			m = typeText(m, "/web")
			checkFrame(t, m, size.w, size.h)
			f := frame(m)
			if !strings.Contains(f, "✓ linking") {
				t.Fatalf("linking not done:\n%s", f)
			}
			golden.RequireEqual(t, []byte(stripSpinner(f)+"\n"))
		})
	}
}

// stripSpinner replaces the spinner's frame, which moves with time, by a fixed mark.
func stripSpinner(f string) string {
	for _, r := range "⣾⣽⣻⢿⡿⣟⣯⣷" {
		f = strings.ReplaceAll(f, string(r), "*")
	}
	return f
}
