package tui

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
)

// randomKeys are the keys a user (or a cat) can press: every binding, editing keys, letters,
// digits and punctuation that go into fields.
var randomKeys = []string{
	"enter", "enter", "enter", "esc", "tab", "shift+tab", "up", "down", "left", "right",
	"pgup", "pgdown", "home", "end", "backspace", "space", "ctrl+u", "ctrl+w",
	"/", "?", "n", "p", "e", "y", "d", "g", "G", "j", "k", "h", "l", "i", "o", "t", "u", "a", "v",
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", ":", "*", "-", "w", "b", "x", "é", "🙂",
	"r", "r", "c", "]", "[", "a", "a", "m", "L", "N", "G", "space",
}

// Thousands of random keys and resizes on every screen never panic, and every frame fits the
// terminal. (q and ctrl+c are left out so the walk goes on; their handling is tested apart.)
func TestRandomKeysNeverPanic(t *testing.T) {
	eng := sampleEngine(t)
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	starts := []Start{{}, {VM: "app-01"}, {VM: "web-02", NIC: "web-02-nic"}, {Flow: &flow}, {VM: "batch-01"}}
	n := 2000
	if testing.Short() {
		n = 500
	}
	for seed, start := range starts {
		rng := rand.New(rand.NewPCG(uint64(seed), 42))
		var m tea.Model = New(eng, start)
		w, h := 80, 24
		m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		screens := map[string]bool{}
		for i := 0; i < n; i++ {
			switch r := rng.IntN(100); {
			case r < 4:
				w, h = rng.IntN(140), rng.IntN(50)
				if rng.IntN(2) == 0 { // mostly usable sizes
					w, h = MinWidth+rng.IntN(90), MinHeight+rng.IntN(40)
				}
				m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			case r < 6:
				m, _ = m.Update(tea.PasteMsg{Content: []string{"10.0.1.4:443", "\x1b[31mx\x07", "999999", "a b\tc\n"}[rng.IntN(4)]})
			case r < 7:
				m, _ = m.Update(tea.BackgroundColorMsg{Color: lightBG{}})
			case r < 10 && screenOf(m) == "form":
				// Fill the form validly now and then, so the walk reaches verdicts too.
				mm := m.(Model)
				f := mm.top().(*formScreen)
				f.in[fLocalIP].SetValue(f.nic.PrimaryIPConfig().PrivateIP.String())
				f.in[fLocalPort].SetValue(itoa(rng.IntN(65536)))
				f.in[fRemoteIP].SetValue([]string{"13.107.21.200", "10.2.1.4", "10.0.2.10", "192.168.10.5"}[rng.IntN(4)])
				f.in[fRemotePort].SetValue("")
				m = send(t, m, "enter")
			default:
				k := randomKeys[rng.IntN(len(randomKeys))]
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("seed %d step %d: key %q at %dx%d on %s panicked: %v\n%s", seed, i, k, w, h, screenOf(m), p, frame(m))
						}
					}()
					m, _ = m.Update(keyMsg(k))
				}()
			}
			screens[screenOf(m)] = true
			if w > 0 && h > 0 {
				checkFrame(t, m, w, h)
			}
		}
		t.Logf("start %d visited %v", seed, screens)
	}
}

// Random keys on the 1000-rule chain.
func TestRandomKeysLongChain(t *testing.T) {
	eng := bigNSGEngine(t)
	flow := bigFlow()
	var m tea.Model = New(eng, Start{Flow: &flow})
	rng := rand.New(rand.NewPCG(7, 7))
	w, h := 80, 24
	m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	keys := []string{"n", "p", "up", "down", "pgup", "pgdown", "g", "G", "d", "left", "right", "j", "k", "x", "]", "[", "/", "1", "enter", "N"}
	for i := 0; i < 2000; i++ {
		if rng.IntN(50) == 0 {
			w, h = MinWidth+rng.IntN(100), MinHeight+rng.IntN(40)
			m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		}
		m = send(t, m, keys[rng.IntN(len(keys))])
		checkFrame(t, m, w, h)
	}
}
