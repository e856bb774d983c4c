package tui

import (
	"bytes"
	"testing"

	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
)

// A hosted UI takes the host's current engine at each verdict, reports each verdict, and
// shows the host's notices on the status line.
func TestHostedSwapsEngineAndReportsVerdicts(t *testing.T) {
	old := sampleEngine(t)
	// The same estate with port 123 allowed where 443 was: the flow below flips to Allow.
	var srcs []model.Source
	for _, s := range fixtures.Sample() {
		s.Data = bytes.Replace(s.Data, []byte(`destination_ports = "443"`), []byte(`destination_ports = "123"`), 1)
		s.Data = bytes.Replace(s.Data, []byte(`["443", "8000-8080"]`), []byte(`["123", "8000-8080"]`), 1)
		srcs = append(srcs, s)
	}
	env, err := model.Load(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	newer := engine.Compile(env)

	current := old
	var got []*engine.Result
	var m tea.Model = newHosted(old, Start{VM: "web-01", NIC: "web-01-nic"}, Hosted{
		Engine:  func() *engine.Engine { return current },
		Verdict: func(r *engine.Result) { got = append(got, r) },
	})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m = typeText(m, "123")
	m = send(t, m, "tab")
	m = typeText(m, "13.107.21.200")
	m = send(t, m, "tab")
	m = typeText(m, "60000")
	m = send(t, m, "enter")
	mustContain(t, m, "✗ Access denied")

	current = newer
	m, _ = m.Update(Notice("estate reloaded: your next verdict uses it"))
	mustContain(t, m, "estate reloaded: your next verdict uses it")
	m = send(t, m, "e", "enter")
	mustContain(t, m, "✓ Access allowed")
	if len(got) != 2 || got[0].Access != model.Deny || got[1].Access != model.Allow {
		t.Fatalf("reported verdicts %v, want Deny then Allow", got)
	}

	// Notices are text from the host; control characters in them never reach the terminal.
	m, _ = m.Update(Notice("evil\x1b[2Jname"))
	if f := m.(Model).View().Content; bytes.Contains([]byte(f), []byte("\x1b[2J")) {
		t.Fatal("a raw escape from a notice reached the frame")
	}
}

// UIs on one estate (one per SSH session under ipflow serve) share the VM list's rows, and a
// filter in one does not reach another.
func TestUIsOnOneEstateShareRowsNotState(t *testing.T) {
	eng := sampleEngine(t)
	a, b := sized(eng, Start{}, 80, 24), sized(eng, Start{}, 80, 24)
	ra, rb := a.(Model).stack[0].(*vmsScreen).rows, b.(Model).stack[0].(*vmsScreen).rows
	if &ra[0] != &rb[0] {
		t.Error("each UI built its own rows")
	}
	a = send(t, a, "/")
	a = typeText(a, "web")
	mustContain(t, a, "2 of 7 VMs match")
	mustContain(t, b, "7 VMs", "app-01", "db-01")
}
