package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// One filter keystroke on the list of 10,000 VMs: Update and View. Typing the first character
// and erasing it both rescan every VM, the worst case. Target: ≤ 10 ms.
func BenchmarkFilterKeystroke10kVMs(b *testing.B) {
	eng := benchEngine(b)
	m := sized(eng, Start{}, 80, 24)
	m = send(b, m, "/")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := keyMsg("5")
		if i%2 == 1 {
			k = keyMsg("backspace")
		}
		m, _ = m.Update(k)
		_ = m.(Model).View()
	}
}

// Moving the cursor on the list of 10,000 VMs: Update and View.
func BenchmarkScroll10kVMs(b *testing.B) {
	eng := benchEngine(b)
	m := sized(eng, Start{}, 80, 24)
	down, up := keyMsg("pgdown"), keyMsg("pgup")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := down
		if i%200 >= 100 {
			k = up
		}
		m, _ = m.Update(k)
		_ = m.(Model).View()
	}
}

// Opening the verdict of a flow that goes through every inbound rule of two 1000-rule NSGs:
// enter on the form (the engine's Verify and the chain) and the first View. Target: ≤ 20 ms.
func BenchmarkOpenVerdictTwo1000RuleNSGs(b *testing.B) {
	eng := bigNSGEngine(b)
	flow := bigFlow()
	m := sized(eng, Start{Flow: &flow}, 80, 24)
	m = send(b, m, "esc") // to the form, filled with the flow
	if screenOf(m) != "form" {
		b.Fatalf("on %q", screenOf(m))
	}
	enter, esc := keyMsg("enter"), keyMsg("esc")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, _ = m.Update(enter)
		_ = m.(Model).View()
		b.StopTimer()
		if screenOf(m) != "verdict" {
			b.Fatalf("on %q", screenOf(m))
		}
		m, _ = m.Update(esc)
		b.StartTimer()
	}
}

// One step (n) on that chain: Update and View.
func BenchmarkStepLongChain(b *testing.B) {
	eng := bigNSGEngine(b)
	flow := bigFlow()
	m := sized(eng, Start{Flow: &flow}, 80, 24)
	m = send(b, m, "g")
	keys := []tea.KeyPressMsg{keyMsg("n"), keyMsg("p")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m, _ = m.Update(keys[(i/500)%2])
		_ = m.(Model).View()
	}
}

// One search keystroke in the chain of two 1000-rule NSGs (2,000 rules and more rows): Update
// and View. Typing a character and erasing it both rescan every rule. Target: ≤ 10 ms.
func BenchmarkSearchKeystrokeLongChain(b *testing.B) {
	eng := bigNSGEngine(b)
	flow := bigFlow()
	m := sized(eng, Start{Flow: &flow}, 120, 40)
	m = send(b, m, "/")
	m = typeText(m, "rule-1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := keyMsg("2")
		if i%2 == 1 {
			k = keyMsg("backspace")
		}
		m, _ = m.Update(k)
		_ = m.(Model).View()
	}
}

// Opening the whole rule table of a 1000-rule NSG from the chain (r) and drawing it, then
// going back. Target: ≤ 20 ms.
func BenchmarkOpenNSGTable1000Rules(b *testing.B) {
	eng := bigNSGEngine(b)
	flow := bigFlow()
	m := sized(eng, Start{Flow: &flow}, 120, 40)
	r, esc := keyMsg("r"), keyMsg("esc")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, _ = m.Update(r)
		_ = m.(Model).View()
		b.StopTimer()
		if screenOf(m) != "rules" {
			b.Fatalf("on %q", screenOf(m))
		}
		m, _ = m.Update(esc)
		b.StartTimer()
	}
}

// Opening a NIC's effective rules where both NSGs have 1000 rules.
func BenchmarkOpenEffectiveRules2x1000(b *testing.B) {
	eng := bigNSGEngine(b)
	m := sized(eng, Start{VM: "vm-1"}, 120, 40)
	r, esc := keyMsg("r"), keyMsg("esc")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, _ = m.Update(r)
		_ = m.(Model).View()
		b.StopTimer()
		if screenOf(m) != "rules" {
			b.Fatalf("on %q", screenOf(m))
		}
		m, _ = m.Update(esc)
		b.StartTimer()
	}
}
