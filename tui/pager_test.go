package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
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

// The rule table searches with the chain's search: the same query matches the same rules,
// n/N move between them, enter keeps it, esc clears it and then goes back.
func TestRuleTableSearch(t *testing.T) {
	flow := denyFlow()
	for _, q := range []string{"443", "vnet", "10.0.1.4", "650", "internet", "nomatch"} {
		m := sized(sampleEngine(t), Start{Flow: &flow}, 80, 24)
		m = send(t, m, "G", "r") // the table of the last NSG of the chain
		rs := topOf(m).(*rulesScreen)
		m = send(t, m, "/")
		if !topOf(m).typing() {
			t.Fatal("/ does not start typing a search in the table")
		}
		m = typeText(m, q)
		// Every rule row the chain's matcher accepts is a match, and nothing else.
		want := newRuleMatcher(q)
		for i, r := range rs.rows {
			if got := rs.matched(i); r.rule != nil && got != want.match(r.rule) || r.rule == nil && got {
				t.Fatalf("%q: row %d (%v) matched %v", q, i, r.rule, got)
			}
		}
		if len(rs.matches) > 0 && !rs.matched(rs.sel) {
			t.Fatalf("%q: the selection %d is not on a match %v", q, rs.sel, rs.matches)
		}
		m = send(t, m, "enter")
		if topOf(m).typing() {
			t.Fatal("enter does not keep the search")
		}
		if len(rs.matches) > 1 {
			first := rs.sel
			m = send(t, m, "n")
			if rs.sel == first || !rs.matched(rs.sel) {
				t.Fatalf("%q: n went from %d to %d", q, first, rs.sel)
			}
			m = send(t, m, "N")
			if rs.sel != first {
				t.Fatalf("%q: N went back to %d, want %d", q, rs.sel, first)
			}
		}
		if len(rs.matches) == 0 {
			mustContain(t, m, "0 matches")
		}
		m = send(t, m, "esc")
		if screenOf(m) != "rules" || rs.query != "" {
			t.Fatalf("%q: esc with a kept search: screen %q, query %q", q, screenOf(m), rs.query)
		}
		m = send(t, m, "esc")
		if screenOf(m) != "verdict" {
			t.Fatalf("%q: second esc: screen %q", q, screenOf(m))
		}
	}
}

// A VM's name is never cut on its NIC screen, even at 50 columns: the title wraps.
func TestLongVMNameWrapsOnTheNICScreen(t *testing.T) {
	long := "web-02-" + strings.Repeat("x", 52) + "-end" // 63 characters, under Azure's 64
	var srcs []model.Source
	for _, src := range fixtures.Sample() {
		srcs = append(srcs, model.Source{Name: src.Name, Data: []byte(strings.ReplaceAll(string(src.Data), `"web-02"`, `"`+long+`"`))})
	}
	env, err := model.Load(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.Compile(env)
	m := sized(eng, Start{VM: long}, MinWidth, MinHeight)
	checkFrame(t, m, MinWidth, MinHeight)
	if !strings.Contains(strings.ReplaceAll(joined(m), " ", ""), "Networkinterfacesof"+long) {
		t.Fatalf("the VM's name is cut:\n%s", frame(m))
	}
	// On the VM list the NAME column cuts it; the footer has it whole.
	m = sized(eng, Start{}, MinWidth, MinHeight)
	m = send(t, m, "/")
	m = typeText(m, "xxxx")
	m = send(t, m, "enter")
	checkFrame(t, m, MinWidth, MinHeight)
	if !strings.Contains(strings.ReplaceAll(joined(m), " ", ""), long+":web-02-nicinhub/web") {
		t.Fatalf("the selected VM's name is not on the VM list whole:\n%s", frame(m))
	}
}
