package tui

import (
	"net/netip"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/internal/estategen"
	"ipflow/model"
)

// sampleEngine is the embedded sample environment, compiled.
func sampleEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		tb.Fatalf("loading the sample: %v", err)
	}
	return engine.Compile(env)
}

var (
	largeOnce, benchOnce sync.Once
	largeEng, benchEng   *engine.Engine
	largeErr, benchErr   error
)

// largeEngine is a generated environment of 10,000 VMs with few rules (quick to load, for
// tests of the list).
func largeEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	largeOnce.Do(func() { largeEng, largeErr = generated(10000, 20, 5) })
	if largeErr != nil {
		tb.Fatalf("loading the generated environment: %v", largeErr)
	}
	return largeEng
}

// benchEngine is the 10,000-VM generated environment the model and engine benchmarks use
// (2000 NSGs of 50 rules), loaded once per test binary.
func benchEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	benchOnce.Do(func() { benchEng, benchErr = generated(10000, 2000, 50) })
	if benchErr != nil {
		tb.Fatalf("loading the generated environment: %v", benchErr)
	}
	return benchEng
}

func generated(vms, nsgs, rules int) (*engine.Engine, error) {
	env, err := model.Load(model.Source{Name: "generated.toml", Data: estategen.Large(vms, nsgs, rules)})
	if err != nil {
		return nil, err
	}
	return engine.Compile(env), nil
}

// bigNSGEngine has VMs whose subnet NSG and NIC NSG have 1000 rules each.
func bigNSGEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	env, err := model.Load(model.Source{Name: "big.toml", Data: estategen.Large(10, 2, 1000)})
	if err != nil {
		tb.Fatalf("loading the generated environment: %v", err)
	}
	return engine.Compile(env)
}

// bigFlow goes through every inbound rule of both 1000-rule NSGs of vm-1 (nothing allows
// port 1) and is allowed by AllowVnetInBound at both levels.
func bigFlow() engine.Flow {
	return engine.Flow{VM: "vm-1", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.1.0.5"), LocalPort: 1,
		RemoteIP: netip.MustParseAddr("10.1.3.9"), RemotePort: engine.AnyPort}
}

// keyMsg turns "enter", "shift+tab", "ctrl+c", "up", "a" … into a key press.
func keyMsg(k string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"enter":     {Code: tea.KeyEnter},
		"tab":       {Code: tea.KeyTab},
		"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
		"esc":       {Code: tea.KeyEscape},
		"up":        {Code: tea.KeyUp},
		"down":      {Code: tea.KeyDown},
		"left":      {Code: tea.KeyLeft},
		"right":     {Code: tea.KeyRight},
		"backspace": {Code: tea.KeyBackspace},
		"pgdown":    {Code: tea.KeyPgDown},
		"pgup":      {Code: tea.KeyPgUp},
		"home":      {Code: tea.KeyHome},
		"end":       {Code: tea.KeyEnd},
		"space":     {Code: tea.KeySpace, Text: " "},
		"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
		"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl},
		"ctrl+w":    {Code: 'w', Mod: tea.ModCtrl},
	}
	if m, ok := special[k]; ok {
		return m
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// send applies key presses (names as keyMsg takes them) to m. Work a key starts off the UI
// goroutine (the matrix, lint) is run at once and its result applied, as the program would.
func send(tb testing.TB, m tea.Model, keys ...string) tea.Model {
	tb.Helper()
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(keyMsg(k))
		if cmd != nil {
			if d, ok := cmd().(done); ok {
				m, _ = m.Update(d)
			}
		}
	}
	return m
}

// typeText types each rune of s.
func typeText(m tea.Model, s string) tea.Model {
	for _, r := range s {
		m, _ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

// sized is New with a window size applied.
func sized(eng *engine.Engine, start Start, w, h int) tea.Model {
	var m tea.Model = New(eng, start)
	m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// frame is the rendered screen without escape codes.
func frame(m tea.Model) string { return ansi.Strip(m.(Model).View().Content) }

func mustContain(tb testing.TB, m tea.Model, wants ...string) {
	tb.Helper()
	f := frame(m)
	for _, w := range wants {
		if !strings.Contains(f, w) {
			tb.Fatalf("screen does not show %q:\n%s", w, f)
		}
	}
}

func mustNotContain(tb testing.TB, m tea.Model, unwanted ...string) {
	tb.Helper()
	f := frame(m)
	for _, w := range unwanted {
		if strings.Contains(f, w) {
			tb.Fatalf("screen shows %q:\n%s", w, f)
		}
	}
}

func screenOf(m tea.Model) string { return m.(Model).screenName() }

// checkFrame checks that a frame fits w×h: no line wider than w, no more than h lines.
func checkFrame(tb testing.TB, m tea.Model, w, h int) {
	tb.Helper()
	v := m.(Model).View()
	lines := strings.Split(v.Content, "\n")
	if len(lines) > h {
		tb.Fatalf("%d lines in a %dx%d terminal:\n%s", len(lines), w, h, ansi.Strip(v.Content))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			tb.Fatalf("line %d is %d cells wide in a %dx%d terminal: %q", i, n, w, h, ansi.Strip(l))
		}
	}
	if c := v.Cursor; c != nil && (c.X < 0 || c.Y < 0 || c.X >= w || c.Y >= h) {
		tb.Fatalf("cursor at %d,%d outside %dx%d", c.X, c.Y, w, h)
	}
}
