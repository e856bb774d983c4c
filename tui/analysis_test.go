package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
)

// Issue 10: the reach view from the NIC screen. Every part it lists opens a verdict whose
// answer and deciding rule are the part's: the view and engine.Verify agree.
func TestReachViewAgreesWithVerify(t *testing.T) {
	eng := sampleEngine(t)
	for _, vm := range []string{"web-01", "app-01", "db-01", "jump-01"} {
		for _, keys := range [][]string{nil, {"tab"}, {"t"}, {"t", "t"}, {":", "22", "enter"}, {"tab", ":", "80-90", "enter"}} {
			m := sized(eng, Start{VM: vm}, 100, 40)
			m = send(t, m, "a")
			if screenOf(m) != "reach" {
				t.Fatalf("a on %s's NICs opened %q", vm, screenOf(m))
			}
			for _, k := range keys {
				if len(k) > 1 && k != "tab" && k != "enter" {
					m = typeText(m, k)
				} else {
					m = send(t, m, k)
				}
			}
			s := topOf(m).(*reachScreen)
			if s.err != "" {
				t.Fatalf("%s %v: %s", vm, keys, s.err)
			}
			if len(s.items) == 0 {
				t.Fatalf("%s %v: no parts", vm, keys)
			}
			for i, e := range s.items {
				s.cur = i
				s.lines = nil
				mm := send(t, m, "enter")
				res := mm.(Model).result()
				if res == nil {
					t.Fatalf("%s %v part %d: no verdict (%s)", vm, keys, i, mm.(Model).status)
				}
				if res.Access != e.Access || res.Rule != e.Rule {
					t.Fatalf("%s %v part %d (%s): Verify says %s by %v", vm, keys, i, e.RuleLine(), res.Access, res.RuleName())
				}
				mm = send(t, mm, "esc", "esc")
				if screenOf(mm) != "reach" {
					t.Fatalf("esc esc from the verdict went to %q", screenOf(mm))
				}
			}
		}
	}
}

// Issue 10: the matrix from the VM list, on the filter's VMs. Every cell's verdict (enter)
// agrees with the cell: a denied cell opens a Deny, an allowed one an Allow.
func TestMatrixCellsOpenTheirVerdict(t *testing.T) {
	eng := sampleEngine(t)
	for _, keys := range [][]string{{":", "1433", "enter"}, {":", "443", "enter"}, {"t", "t"}} {
		m := sized(eng, Start{}, 100, 40)
		m = send(t, m, "m")
		if screenOf(m) != "matrix" {
			t.Fatalf("m opened %q", screenOf(m))
		}
		for _, k := range keys {
			if len(k) > 1 && k != "enter" {
				m = typeText(m, k)
			} else {
				m = send(t, m, k)
			}
		}
		s := topOf(m).(*matrixScreen)
		if s.err != "" || len(s.res.VMs) != 7 {
			t.Fatalf("%v: %s, %d VMs", keys, s.err, len(s.res.VMs))
		}
		for i := range s.res.VMs {
			for j := range s.res.VMs {
				c := s.res.Cells[i][j]
				s.list.cursor, s.col = i, j
				mm := send(t, m, "enter")
				res := mm.(Model).result()
				if c.State == analysis.NotPaired {
					if res != nil {
						t.Fatalf("an n/a cell opened a verdict")
					}
					continue
				}
				if res == nil {
					t.Fatalf("%v cell %d,%d: no verdict: %s", keys, i, j, mm.(Model).status)
				}
				want := model.Allow
				if c.State == analysis.Denied {
					want = model.Deny
				}
				if res.Access != want {
					t.Fatalf("%v cell %s → %s is %v, its verdict %s (%s)", keys, s.res.VMs[i].VM.Name, s.res.VMs[j].VM.Name, c.State, res.Access, res.Flow)
				}
			}
		}
	}
	// The filter chooses the VMs.
	m := sized(eng, Start{}, 100, 40)
	m = send(t, m, "/")
	m = typeText(m, "web")
	m = send(t, m, "enter", "m")
	if s := topOf(m).(*matrixScreen); len(s.res.VMs) != 2 {
		t.Fatalf("the filter web gave a matrix of %d VMs", len(s.res.VMs))
	}
	mustContain(t, m, "1 web-01", "2 web-02")
}

// Issue 10: the lint view lists the findings and enter jumps to the rule.
func TestLintViewJumpsToTheRule(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{}, 100, 40)
	m = send(t, m, "L")
	if screenOf(m) != "lint" {
		t.Fatalf("L opened %q", screenOf(m))
	}
	s := topOf(m).(*lintScreen)
	want := analysis.New(eng).Lint()
	if len(s.fs) != len(want) || len(want) == 0 {
		t.Fatalf("%d findings, lint has %d", len(s.fs), len(want))
	}
	jumped := false
	for i, f := range s.fs {
		s.cur = i
		s.lines = nil
		mm := send(t, m, "enter")
		if f.Rule == nil {
			if screenOf(mm) == "lint" {
				t.Fatalf("finding %q without a rule opened nothing", f.Line())
			}
			continue
		}
		if screenOf(mm) != "rules" {
			t.Fatalf("finding %q opened %q", f.Line(), screenOf(mm))
		}
		rs := topOf(mm).(*rulesScreen)
		if rs.rows[rs.sel].rule != f.Rule {
			t.Fatalf("finding %q: the table selects %s", f.Line(), rs.rows[rs.sel].rule.ID())
		}
		mustContain(t, mm, f.Rule.ID())
		jumped = true
	}
	if !jumped {
		t.Fatal("no finding with a rule in the sample")
	}
}

// A lint finding without a rule opens something useful: an ASG's or a tag's finding in full
// with what the estate holds of it, an exposure without any NSG the VM's effective rules.
func TestLintFindingWithoutARule(t *testing.T) {
	var srcs []model.Source
	for _, src := range fixtures.Sample() {
		data := strings.Replace(string(src.Data), `"Storage.WestEurope" = [`, `"Unused.Tag" = ["198.51.100.0/24"]
"Storage.WestEurope" = [`, 1)
		data += "\n[[asg]]\nname = \"empty-grp\"\n"
		srcs = append(srcs, model.Source{Name: src.Name, Data: []byte(data)})
	}
	env, err := model.Load(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.Compile(env)
	m := sized(eng, Start{}, MinWidth, MinHeight)
	m = send(t, m, "L")
	s := topOf(m).(*lintScreen)
	wants := map[string][]string{
		analysis.KindEmptyASG:  {"note · empty-asg · ASG empty-grp", "has no members", "0 members", "Rules naming it:", "none"},
		analysis.KindUnusedTag: {"service tag Unused.Tag", "is declared but no rule names it", "Prefixes (1):", "198.51.100.0/24"},
		analysis.KindExposure:  {"Effective security rules of jump-01-nic"},
	}
	for i, f := range s.fs {
		want, ok := wants[f.Kind]
		if !ok || f.Rule != nil {
			continue
		}
		delete(wants, f.Kind)
		s.cur = i
		s.lines = nil
		mm := send(t, m, "enter")
		seen := joined(mm)
		for range 10 {
			mm = send(t, mm, "pgdown")
			checkFrame(t, mm, MinWidth, MinHeight)
			seen += " " + joined(mm)
		}
		for _, w := range want {
			if !strings.Contains(seen, w) {
				t.Fatalf("finding %q opened %q without %q:\n%s", f.Line(), screenOf(mm), w, seen)
			}
		}
	}
	if len(wants) > 0 {
		t.Fatalf("no findings of kinds %v", wants)
	}
}

func TestGoldenAnalysisScreens(t *testing.T) {
	eng := sampleEngine(t)
	cases := []struct {
		name  string
		start Start
		keys  []string
	}{
		{"reach", Start{VM: "web-01"}, []string{"a"}},
		{"reach_outbound", Start{VM: "web-01"}, []string{"a", "tab"}},
		{"matrix", Start{}, []string{"m"}},
		{"lint", Start{}, []string{"L"}},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {MinWidth, MinHeight}} {
		for _, c := range cases {
			t.Run(c.name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				var m tea.Model = sized(eng, c.start, size.w, size.h)
				m = send(t, m, c.keys...)
				checkFrame(t, m, size.w, size.h)
				goldenFrame(t, m)
				out := asciiFrame(t, m)
				if colourSGR.Match(out) || !reverseSGR.Match(out) {
					t.Fatalf("without colour: %q", out)
				}
				if size.w == 80 {
					t.Run("no_color", func(t *testing.T) { golden.RequireEqual(t, out) })
				}
			})
		}
	}
}

// topOf is the screen on top of m's stack.
func topOf(m tea.Model) screen {
	mm := m.(Model)
	return mm.top()
}

// The matrix and lint run off the UI goroutine: the screen says it is working until the
// answer arrives, and keys still work meanwhile.
func TestMatrixAndLintDoNotBlock(t *testing.T) {
	eng := sampleEngine(t)
	for _, c := range []struct{ key, busy, ready string }{
		{"m", "computing 7 × 7 flows", "1 web-01"},
		{"L", "checking every rule of the estate", "exposure"},
	} {
		m := sized(eng, Start{}, 100, 40)
		m, cmd := m.Update(keyMsg(c.key))
		if cmd == nil {
			t.Fatalf("%s started no work", c.key)
		}
		mustContain(t, m, c.busy)
		m = send(t, m, "down", "up")
		d, ok := cmd().(done)
		if !ok {
			t.Fatalf("%s: the work ended with %T", c.key, d)
		}
		m, _ = m.Update(d)
		mustContain(t, m, c.ready)
		m = send(t, m, "esc")
		if screenOf(m) != "vms" {
			t.Fatalf("esc went to %q", screenOf(m))
		}
	}
}
