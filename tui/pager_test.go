package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// joined is the frame's words, so a text wrapped at any width can be found whole.
func joined(m tea.Model) string { return strings.Join(strings.Fields(frame(m)), " ") }

// At 50×12 what does not fit is never cut silently: the copied command lines end in "… N more
// lines: i shows it all", and i shows them whole, scrolled with the list keys; esc goes back.
func TestSmallTerminalShowsTheWholeStatus(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, MinWidth, MinHeight)
	m = send(t, m, "c")
	mustContain(t, m, "more lines: i shows it all")
	m = send(t, m, "i")
	if screenOf(m) != "pager" {
		t.Fatalf("i on a cut status: screen %q", screenOf(m))
	}
	checkFrame(t, m, MinWidth, MinHeight)
	seen := joined(m)
	for range 10 {
		m = send(t, m, "down")
		checkFrame(t, m, MinWidth, MinHeight)
		seen += " " + joined(m)
	}
	for _, want := range []string{
		"ipflow verify --vm web-01 --nic web-01-nic --direction inbound --protocol tcp --local 10.0.1.4:123 --remote 13.107.21.200:60000",
		"az network watcher test-ip-flow --vm web-01 --nic web-01-nic --direction Inbound --protocol TCP --local 10.0.1.4:123 --remote 13.107.21.200:60000",
	} {
		if !strings.Contains(seen, want) {
			t.Fatalf("the pager never showed %q:\n%s", want, seen)
		}
	}
	m = send(t, m, "esc")
	if screenOf(m) != "verdict" {
		t.Fatalf("esc from the pager: screen %q", screenOf(m))
	}
	mustNotContain(t, m, "more lines")
}

// i on a verdict shows the selected step whole: the rule's full name, description, NSG and
// applied-to, and every reason, however small the terminal.
func TestStepInFull(t *testing.T) {
	flow := denyFlow()
	for _, size := range [][2]int{{MinWidth, MinHeight}, {80, 24}} {
		m := sized(sampleEngine(t), Start{Flow: &flow}, size[0], size[1])
		m = send(t, m, "i")
		if screenOf(m) != "pager" {
			t.Fatalf("i on the verdict: screen %q", screenOf(m))
		}
		seen := joined(m)
		for range 20 {
			m = send(t, m, "down")
			checkFrame(t, m, size[0], size[1])
			seen += " " + joined(m)
		}
		for _, want := range []string{
			"DenyAllInBound", "“Deny all inbound traffic”", "NSG web-subnet-nsg on subnet/hub/web",
			"protocol TCP matches *", "source 13.107.21.200 matches *", "source port 60000 matches *",
			"destination 10.0.1.4 matches *", "destination port 123 matches *",
		} {
			if !strings.Contains(seen, want) {
				t.Fatalf("%dx%d: the step in full never showed %q:\n%s", size[0], size[1], want, seen)
			}
		}
		m = send(t, m, "i")
		if screenOf(m) != "verdict" {
			t.Fatalf("i again: screen %q", screenOf(m))
		}
	}
}
