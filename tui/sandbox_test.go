package tui

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/internal/cputime"
	"ipflow/model"
	"ipflow/whatif"
)

var ntpFlow = engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
	LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
	RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}

// Goldens of the sandbox: the suggestions, a verdict in the what-if (its header, the + marks),
// the changes view, and the NSG table in the what-if; at 80×24 and at the minimum size.
func TestGoldenSandbox(t *testing.T) {
	eng := sampleEngine(t)
	cases := []struct {
		name string
		keys []string
	}{
		{"suggestions", []string{"f"}},
		{"suggestions_edit_selected", []string{"f", "down"}},
		{"applied", []string{"f", "enter"}},
		{"applied_changes", []string{"f", "enter", "v"}},
		{"applied_nsg_table", []string{"f", "enter", "r"}},
		{"applied_then_reversed", []string{"f", "enter", "f", "enter"}},
		{"undone", []string{"f", "enter", "u"}},
		{"quit_asks", []string{"f", "enter", "q"}},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {MinWidth, MinHeight}} {
		for _, c := range cases {
			t.Run(c.name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				m := sized(eng, Start{Flow: &ntpFlow}, size.w, size.h)
				m = send(t, m, c.keys...)
				checkFrame(t, m, size.w, size.h)
				goldenFrame(t, m)
			})
		}
	}
}

// Applying a suggestion flips the verdict on the spot; every screen then answers from the
// what-if; u undoes; the loaded engine never changes.
func TestSandboxAppliesAndUndoes(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{Flow: &ntpFlow}, 80, 24)
	if r := m.(Model).result(); r == nil || r.Access != model.Deny {
		t.Fatal("the flow is not denied to start with")
	}
	m = send(t, m, "f")
	if screenOf(m) != "suggestions" {
		t.Fatalf("f opened %q", screenOf(m))
	}
	m = send(t, m, "enter")
	r := m.(Model).result()
	if screenOf(m) != "verdict" || r == nil || r.Access != model.Allow || r.Rule.Name != "allow-tcp-123-from-13.107.21.200" {
		t.Fatalf("after applying: %s %+v", screenOf(m), r)
	}
	mustContain(t, m, "WHAT-IF · 2 changes", "+ ▶  4096 allow-tcp-123-from-13.107.21.200")
	// The loaded estate still denies it.
	if v, _ := eng.Decide(ntpFlow); v.Access != model.Deny {
		t.Fatal("the loaded engine changed")
	}
	// Other screens answer from the what-if: the VM list's reach from web-01's NIC.
	c := m.(Model).c
	if c.eng == eng {
		t.Fatal("the UI's engine is still the loaded one")
	}
	if v, _ := c.eng.Decide(ntpFlow); v.Access != model.Allow {
		t.Fatal("the what-if engine does not allow the flow")
	}
	m = send(t, m, "u")
	r = m.(Model).result()
	if r == nil || r.Access != model.Deny || m.(Model).c.eng != eng || strings.Contains(frame(m), "WHAT-IF") {
		t.Fatalf("after undo: %+v\n%s", r, frame(m))
	}
	mustContain(t, m, "undone: add allow-tcp-123-from-13.107.21.200")
}

// Suggestions stack: on the what-if's verdict, f suggests the way back, applied on top; u takes
// back one step at a time.
func TestSandboxStacks(t *testing.T) {
	m := sized(sampleEngine(t), Start{Flow: &ntpFlow}, 80, 24)
	m = send(t, m, "f", "enter", "f")
	mustContain(t, m, "ways to deny")
	m = send(t, m, "enter")
	if r := m.(Model).result(); r == nil || r.Access != model.Deny || r.Rule.Name != "deny-tcp-123-from-13.107.21.200" {
		t.Fatalf("second step: %+v", r)
	}
	mustContain(t, m, "WHAT-IF · 3 changes")
	m = send(t, m, "u")
	if r := m.(Model).result(); r == nil || r.Access != model.Allow {
		t.Fatalf("after one undo: %+v", r)
	}
	mustContain(t, m, "WHAT-IF · 2 changes")
}

// Quitting with changes asks first; a second q quits.
func TestSandboxQuitAsks(t *testing.T) {
	m := sized(sampleEngine(t), Start{Flow: &ntpFlow}, 80, 24)
	m = send(t, m, "f", "enter")
	m, cmd := m.Update(keyMsg("q"))
	if m.(Model).quitting || cmd != nil {
		t.Fatal("q quit with what-if changes")
	}
	mustContain(t, m, "q again to quit")
	m, _ = m.Update(keyMsg("q"))
	if !m.(Model).quitting {
		t.Fatal("the second q did not quit")
	}
}

// x in the changes view writes the change set to a file whose path is shown and which
// --what-if reads back to the same estate, and copies the az commands.
func TestSandboxExport(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	m := sized(sampleEngine(t), Start{Flow: &ntpFlow}, 80, 24)
	m = send(t, m, "f", "enter", "v")
	m, cmd := m.Update(keyMsg("x"))
	if cmd == nil {
		t.Fatal("no clipboard command")
	}
	if msg := cmd(); msg == nil {
		t.Fatal("empty clipboard command")
	}
	st := m.(Model).status
	_, path, ok := strings.Cut(st, "wrote the change set to ")
	path, _, _ = strings.Cut(path, " ")
	data, err := os.ReadFile(path)
	if !ok || err != nil || !strings.Contains(string(data), `name = "allow-tcp-123-from-13.107.21.200"`) {
		t.Fatalf("status %q: %v", st, err)
	}
	// Opened with the exported file, the UI starts in the same what-if.
	m2 := sized(sampleEngine(t), Start{Flow: &ntpFlow, WhatIf: []model.Source{{Name: path, Data: data}}}, 80, 24)
	if r := m2.(Model).result(); r == nil || r.Access != model.Allow {
		t.Fatalf("--what-if start:\n%s", frame(m2))
	}
	mustContain(t, m2, "WHAT-IF · 2 changes")
}

// A change set that does not apply leaves the UI on the loaded estate, saying why.
func TestSandboxBadChangeSet(t *testing.T) {
	m := sized(sampleEngine(t), Start{Flow: &ntpFlow, WhatIf: []model.Source{{Name: "bad.toml", Data: []byte("[[change]]\nop = \"remove\"\nnsg = \"nope\"\nname = \"x\"\n")}}}, 80, 24)
	if r := m.(Model).result(); r == nil || r.Access != model.Deny {
		t.Fatal("a bad change set changed the verdict")
	}
	mustContain(t, m, "bad.toml:3")
	var _ tea.Model = m
}

// BenchmarkSandboxApply10k: on the 10,000-VM estate, apply a suggestion in the sandbox and draw
// the verdict it recomputes (the what-if estate is copied and compiled whole, so that every
// screen answers from it). Target: ≤ 50 ms.
func BenchmarkSandboxApply10k(b *testing.B) {
	eng := benchEngine(b)
	ts, err := eng.VMTargets("vm-5000", "")
	if err != nil {
		b.Fatal(err)
	}
	f := engine.Flow{VM: "vm-5000", Direction: model.Inbound, Protocol: model.UDP, LocalIP: ts[0].IPConfig().PrivateIP, LocalPort: 5999,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	m0 := send(b, sized(eng, Start{Flow: &f}, 80, 24), "f")
	if screenOf(m0) != "suggestions" {
		b.Fatalf("%s", frame(m0))
	}
	mm := m0.(Model)
	sg := mm.top().(*suggestionsScreen)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		tm := sized(eng, Start{Flow: &f}, 80, 24)
		m := tm.(Model)
		m.push(suggestionsOf(m.c, sg.res, sg.r))
		tm = m
		_ = tm.View() // the list is on screen before enter is pressed
		b.StartTimer()
		c0 := cputime.Used()
		tm, _ = tm.Update(keyMsg("enter"))
		if r := tm.(Model).result(); r == nil || r.Access != model.Allow {
			b.Fatal("not applied")
		}
		_ = tm.(Model).View()
		cpu += cputime.Used() - c0
	}
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// typeField replaces the focused field's value.
func typeField(t *testing.T, m tea.Model, v string) tea.Model {
	t.Helper()
	m = send(t, m, "ctrl+u", "ctrl+k")
	return typeText(m, v)
}

// Hand edits on an NSG's table: a adds a rule through the form; values are read by the
// change-set reader, so errors show beside their field; e edits (marked ~); D deletes.
func TestSandboxHandEdits(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{Flow: &ntpFlow}, 80, 30)
	m = send(t, m, "r", "a")
	if screenOf(m) != "ruleedit" {
		t.Fatalf("a opened %q:\n%s", screenOf(m), frame(m))
	}
	m = typeField(t, m, "allow-ntp-by-hand")
	m = send(t, m, "tab")
	m = typeField(t, m, "4000") // deny-rdp holds 4000 inbound
	m = send(t, m, "tab", "tab", "tab")
	m = typeField(t, m, "Tcpp")
	m = send(t, m, "tab")
	m = typeField(t, m, "13.107.21.200")
	m = send(t, m, "tab", "tab", "tab")
	m = typeField(t, m, "10.0.1.4")
	m = send(t, m, "tab", "tab")
	m = typeField(t, m, "123")
	m = send(t, m, "enter")
	if screenOf(m) != "ruleedit" {
		t.Fatalf("an invalid rule was applied:\n%s", frame(m))
	}
	mustContain(t, m, `✗ protocol "Tcpp": must be`)
	goldenFrame(t, m)
	m = send(t, m, "shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
	m = typeField(t, m, "Tcp")
	m = send(t, m, "enter")
	mustContain(t, m, "✗ priority 4000 clashes with rule \"deny-rdp\"")
	m = send(t, m, "shift+tab", "shift+tab", "shift+tab")
	m = typeField(t, m, "3000")
	m = send(t, m, "enter")
	// Back on the NSG's table, made again from the what-if: the new rule is there, marked and
	// selected.
	if screenOf(m) != "rules" {
		t.Fatalf("not applied:\n%s", frame(m))
	}
	mustContain(t, m, "WHAT-IF · 1 change", "▸+ 3000 allow-ntp-by-hand", "NSG web-subnet-nsg · 4 custom rules", "securityRules/allow-ntp-by-hand\n")
	checkFrame(t, m, 80, 30)
	m = send(t, m, "esc")
	// The subnet NSG now allows; web-nic-nsg still denies: the verdict says so at once.
	r := m.(Model).result()
	if r.Access != model.Deny || r.Layer.NSG.Name != "web-nic-nsg" {
		t.Fatalf("after the hand edit: %s by %s in %s", r.Access, r.Rule.Name, r.Layer.NSG.Name)
	}
	mustContain(t, m, "WHAT-IF · 1 change")
	if !strings.Contains(frame(send(t, m, "g")), "+ ✓  3000 allow-ntp-by-hand") {
		t.Fatalf("no + mark:\n%s", frame(send(t, m, "g")))
	}
	// e on a custom rule of the NIC's NSG: prefilled; widen its ports.
	m = send(t, m, "d", "r")
	m = send(t, m, "g", "e")
	if screenOf(m) != "ruleedit" {
		t.Fatalf("e opened %q:\n%s", screenOf(m), frame(m))
	}
	mustContain(t, m, "Edit rule allow-https of NSG web-nic-nsg", "443, 8000-8080")
	m = send(t, m, "tab", "tab", "tab", "tab", "tab", "tab", "tab", "tab", "tab", "tab")
	m = typeField(t, m, "443, 8000-8080, 123")
	m = send(t, m, "enter")
	mustContain(t, m, "▸~  100 allow-https", "priority 100 · Allow · Tcp · *:* → *:443, 8000-8080, 123")
	m = send(t, m, "esc")
	r = m.(Model).result()
	if r == nil || r.Access != model.Allow || r.Rule.Name != "allow-https" {
		t.Fatalf("after the edit: %+v\n%s", r, frame(m))
	}
	mustContain(t, m, "~ ▶   100 allow-https", "WHAT-IF · 2 changes")
	// D on the edited rule deletes it: gone from the table; denied again.
	m = send(t, m, "r", "D")
	if screenOf(m) != "rules" || strings.Contains(frame(m), "100 allow-https") {
		t.Fatalf("after delete, the table:\n%s", frame(m))
	}
	m = send(t, m, "esc")
	if r := m.(Model).result(); r == nil || r.Access != model.Deny {
		t.Fatalf("after delete: %+v\n%s", r, frame(m))
	}
	mustContain(t, m, "WHAT-IF · 3 changes")
	// Default rules cannot be edited.
	m = send(t, m, "G", "r", "G", "e")
	if screenOf(m) == "ruleedit" {
		t.Fatal("a default rule opened the form")
	}
	if v, _ := eng.Decide(ntpFlow); v.Access != model.Deny || v.Layer.NSG.Name != "web-subnet-nsg" {
		t.Fatal("the loaded engine changed")
	}
}

// Editing a rule whose side is ASGs shows them, and the form read back as a change set is the
// same rule: an edit never drops an ASG side.
func TestRuleEditKeepsASGSides(t *testing.T) {
	eng := sampleEngine(t)
	env := eng.Environment()
	var rule *model.Rule
	var nsg string
	for _, n := range env.NSGs {
		for _, r := range n.Rules {
			if len(r.Source.ASGs) > 0 && rule == nil {
				rule, nsg = r, n.Name
			}
		}
	}
	if rule == nil {
		t.Fatal("the sample has no rule with an ASG source")
	}
	m := sized(eng, Start{}, 80, 30).(Model)
	s := newRuleEdit(m.c, nsg, rule)
	text, _ := s.changeSet()
	if !strings.Contains(text, "source_asgs") {
		t.Fatalf("the form lost the ASG source:\n%s", text)
	}
	set, err := whatif.Load(env, model.Source{Name: "form", Data: []byte(text)})
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	got := set.Changes[0].Rule
	if got == nil || len(got.Source.ASGs) != len(rule.Source.ASGs) || got.Source.ASGs[0].Name != rule.Source.ASGs[0].Name || len(got.Source.Addresses) != 0 {
		t.Fatalf("read back %+v, want the ASG source of %+v", got, rule)
	}
}

// On a short terminal the rule form scrolls to the focused field instead of cutting it off.
func TestRuleEditScrollsToTheFocus(t *testing.T) {
	m := sized(sampleEngine(t), Start{Flow: &ntpFlow}, 50, 12)
	m = send(t, m, "r", "a")
	for range len(ruleFields) - 1 {
		m = send(t, m, "tab")
	}
	mustContain(t, m, "▶ Dest. ports")
}

// Rule tables made again after a what-if change look their NIC, IP configuration and NSG up in
// the what-if's estate (which has its own copies): a rule whose local side is an ASG still
// expands to this NIC's membership, in the NIC's effective rules, in an NSG's table opened from
// a verdict and in one opened from lint.
func TestRemadeTablesExpandASGsOfTheWhatIf(t *testing.T) {
	eng := sampleEngine(t)
	env := eng.Environment()
	change := func(text string) sandboxStep {
		set, err := whatif.Load(env, model.Source{Name: "change.toml", Data: []byte(text)})
		if err != nil {
			t.Fatal(err)
		}
		return sandboxStep{what: "test", changes: set.Changes}
	}
	toASG := change("[[change]]\nop = \"add\"\nnsg = \"app-subnet-nsg\"\n[change.rule]\nname = \"to-app-asg\"\npriority = 150\ndirection = \"Inbound\"\naccess = \"Allow\"\nprotocol = \"Tcp\"\nsource = \"10.9.9.9\"\ndestination_asgs = [\"app\"]\ndestination_ports = \"9999\"\n")
	unrelated := change("[[change]]\nop = \"add\"\nnsg = \"web-nic-nsg\"\n[change.rule]\nname = \"unrelated\"\npriority = 3900\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Udp\"\nsource = \"*\"\ndestination = \"*\"\ndestination_ports = \"7\"\n")
	expandsToApp01 := func(t *testing.T, m tea.Model, what string) {
		t.Helper()
		mm := m.(Model)
		rs, ok := mm.top().(*rulesScreen)
		if !ok {
			t.Fatalf("%s: on %q", what, screenOf(m))
		}
		rs.selectRule("app-subnet-nsg", "to-app-asg")
		m = send(t, m, "enter")
		if f := frame(m); !strings.Contains(f, "ASG app: app-01-nic") || !strings.Contains(f, "+  150 to-app-asg") {
			t.Fatalf("%s: the ASG side does not expand to app-01-nic's membership, or the rule is not marked:\n%s", what, f)
		}
	}
	for _, open := range []struct {
		name string
		keys func(m tea.Model) tea.Model
	}{
		{"effective rules", func(m tea.Model) tea.Model { return send(t, m, "r") }},
		{"NSG table of a verdict", func(m tea.Model) tea.Model {
			mm := m.(Model)
			res, err := mm.c.eng.Verify(engine.Flow{VM: "app-01", Direction: model.Inbound, Protocol: model.TCP,
				LocalIP: netip.MustParseAddr("10.1.1.4"), LocalPort: 9999, RemoteIP: netip.MustParseAddr("10.9.9.9"), RemotePort: 1234})
			if err != nil {
				t.Fatal(err)
			}
			mm.push(newVerdict(mm.c, res))
			for i, lt := range res.Layers {
				if lt.NSG != nil && lt.NSG.Name == "app-subnet-nsg" {
					mm.openLayerTable(res, &res.Layers[i], vrow{})
				}
			}
			return mm
		}},
	} {
		t.Run(open.name, func(t *testing.T) {
			m := sized(eng, Start{VM: "app-01"}, 100, 40)
			mm := m.(Model)
			if err := mm.applyStep(toASG); err != nil {
				t.Fatal(err)
			}
			m = open.keys(mm)
			expandsToApp01(t, m, "opened in the what-if")
			mm = m.(Model)
			if err := mm.applyStep(unrelated); err != nil {
				t.Fatal(err)
			}
			expandsToApp01(t, mm, "made again after another change")
		})
	}
}
