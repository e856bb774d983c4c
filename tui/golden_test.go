package tui

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"ipflow/engine"
	"ipflow/model"
)

// Frame goldens of every screen at 80×24 and at the minimum size, escape codes stripped (so
// they do not depend on the colour profile). Update with: go test ./tui -update
func TestGolden(t *testing.T) {
	eng := sampleEngine(t)
	deny := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	allow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 443,
		RemoteIP: netip.MustParseAddr("10.2.1.4"), RemotePort: 50000}
	refused := engine.Flow{VM: "web-02", Direction: model.Outbound, Protocol: model.UDP,
		LocalIP: netip.MustParseAddr("10.0.1.9"), LocalPort: 53,
		RemoteIP: netip.MustParseAddr("8.8.8.8"), RemotePort: 53}
	admin := engine.Flow{VM: "db-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.2.1.4"), LocalPort: 9100,
		RemoteIP: netip.MustParseAddr("10.0.2.10"), RemotePort: engine.AnyPort}

	cases := []struct {
		name  string
		start Start
		keys  []string
		text  string
		after []string
	}{
		{name: "vms"},
		{name: "vms_filter", keys: []string{"/"}, text: "10.1."},
		{name: "vms_filter_cidr", keys: []string{"/"}, text: "10.0.0.0/16"},
		{name: "vms_filter_none", keys: []string{"/"}, text: "nothing-like-this"},
		{name: "vms_help", keys: []string{"?"}},
		{name: "nics", start: Start{VM: "web-02"}},
		{name: "nics_deallocated", start: Start{VM: "batch-01"}},
		{name: "form", start: Start{VM: "web-01", NIC: "web-01-nic"}},
		{name: "form_invalid", start: Start{VM: "web-01", NIC: "web-01-nic"}, keys: []string{"down"}, text: "13.107.300.1"},
		{name: "form_refused", start: Start{Flow: &refused}},
		{name: "verdict_deny", start: Start{Flow: &deny}},
		{name: "verdict_deny_step1", start: Start{Flow: &deny}, keys: []string{"g"}},
		{name: "verdict_allow", start: Start{Flow: &allow}},
		{name: "verdict_allow_passed_on", start: Start{Flow: &allow}, keys: []string{"p"}},
		{name: "verdict_admin_always_allow", start: Start{Flow: &admin}},
		{name: "verdict_search_typing", start: Start{Flow: &deny}, keys: []string{"/"}, text: "443"},
		{name: "verdict_search_kept", start: Start{Flow: &deny}, keys: []string{"/"}, text: "443", after: []string{"enter"}},
		{name: "verdict_hide_not_evaluated", start: Start{Flow: &deny}, keys: []string{"x"}},
		{name: "verdict_copy_commands", start: Start{Flow: &deny}, keys: []string{"c"}},
		{name: "verdict_copy_commands_in_full", start: Start{Flow: &deny}, keys: []string{"c", "i"}},
		{name: "verdict_step_in_full", start: Start{Flow: &deny}, keys: []string{"i"}},
		{name: "nsg_table", start: Start{Flow: &deny}, keys: []string{"r"}},
		{name: "nsg_table_rule_in_full", start: Start{Flow: &deny}, keys: []string{"r", "i"}},
		{name: "nsg_table_search_typing", start: Start{Flow: &deny}, keys: []string{"r", "/"}, text: "443"},
		{name: "nsg_table_search_kept", start: Start{Flow: &deny}, keys: []string{"r", "/"}, text: "Vnet", after: []string{"enter", "n"}},
		{name: "nsg_table_never_reached", start: Start{Flow: &deny}, keys: []string{"G", "r"}},
		{name: "nsg_table_expanded", start: Start{Flow: &deny}, keys: []string{"r", "g", "down", "down", "down", "enter"}},
		{name: "effective_rules", start: Start{VM: "app-01"}, keys: []string{"r"}},
		{name: "effective_rules_expanded", start: Start{VM: "app-01"}, keys: []string{"r", "down", "enter"}},
		{name: "warnings_none", keys: []string{"w"}},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {MinWidth, MinHeight}} {
		for _, c := range cases {
			t.Run(c.name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				m := sized(eng, c.start, size.w, size.h)
				m = send(t, m, c.keys...)
				m = typeText(m, c.text)
				m = send(t, m, c.after...)
				checkFrame(t, m, size.w, size.h)
				golden.RequireEqual(t, []byte(frame(m)+"\n"))
				// NO_COLOR: the same frame through the Ascii profile keeps no colour, and the
				// cursor bar is still there as reverse video.
				if size.w == 80 {
					out := asciiFrame(t, m)
					if colourSGR.Match(out) {
						t.Fatalf("colours left with the Ascii profile: %q", out)
					}
					if !reverseSGR.Match(out) && !strings.HasPrefix(c.name, "form") && c.name != "warnings_none" && c.name != "vms_filter_none" && !strings.Contains(c.name, "in_full") { // a pager has no cursor
						t.Fatalf("no reverse-video cursor without colour:\n%s", frame(m))
					}
					// The NO_COLOR frame itself, bold/reverse/faint codes kept.
					t.Run("no_color", func(t *testing.T) { golden.RequireEqual(t, out) })
				}
			})
		}
	}
	t.Run("too_small_49x12", func(t *testing.T) {
		m := sized(eng, Start{}, MinWidth-1, MinHeight)
		golden.RequireEqual(t, []byte(frame(m)+"\n"))
	})
}

// goldenFrame compares the frame, escape codes stripped, with its golden file.
func goldenFrame(t *testing.T, m tea.Model) {
	t.Helper()
	golden.RequireEqual(t, []byte(frame(m)+"\n"))
}

// asciiFrame is the frame as a NO_COLOR terminal gets it: the Ascii colour profile.
func asciiFrame(t *testing.T, m tea.Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: colorprofile.Ascii}
	if _, err := w.WriteString(m.(Model).View().Content + "\n"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Goldens of the screens with fixture warnings, at 80×24 and 50×12, and without colour.
func TestGoldenWarnings(t *testing.T) {
	env, err := model.Load(model.Source{Name: "w.toml", Data: []byte(`
[[vnet]]
name = "v"
address_space = ["10.0.0.0/16"]

  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"

[[nsg]]
name = "orphan-nsg"

[[nsg]]
name = "another-orphan-nsg-with-a-long-name"

[[vm]]
name = "vm-1"

  [[vm.nic]]
  name = "nic-1"
  private_ip = "10.0.1.4"
  subnet = "v/s"
`)})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.Compile(env)
	for _, size := range []struct{ w, h int }{{80, 24}, {MinWidth, MinHeight}} {
		for _, keys := range [][]string{nil, {"w"}} {
			name := "vms"
			if keys != nil {
				name = "list"
			}
			t.Run(name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				m := send(t, sized(eng, Start{}, size.w, size.h), keys...)
				checkFrame(t, m, size.w, size.h)
				golden.RequireEqual(t, []byte(frame(m)+"\n"))
				if out := asciiFrame(t, m); colourSGR.Match(out) || !reverseSGR.Match(out) {
					t.Fatalf("without colour: %q", out)
				}
			})
		}
	}
}

// A real program, driven through teatest: VM list → filter → NIC → form → verdict → quit.
// It asserts on the final model and its frame, never on the raw output stream, which the
// renderer repaints cell by cell (searching it for a phrase was flaky under load). The program
// handles messages in order, so no step needs to wait for a repaint.
func TestTeatestFlow(t *testing.T) {
	eng := sampleEngine(t)
	tm := teatest.NewTestModel(t, New(eng, Start{}),
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	tm.Send(keyMsg("/"))
	tm.Type("db-0")
	tm.Send(keyMsg("enter"))
	tm.Send(keyMsg("enter"))
	tm.Send(keyMsg("enter"))
	tm.Type("1433")
	tm.Send(keyMsg("tab"))
	tm.Type("10.1.1.4")
	tm.Send(keyMsg("enter"))
	tm.Send(keyMsg("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	res := fm.result()
	if res == nil || res.Access != model.Allow || res.RuleName() != "securityRules/allow-app-to-sql" {
		t.Fatalf("final verdict %+v", res)
	}
	fm.quitting = false
	f := ansi.Strip(fm.View().Content)
	for _, want := range []string{"VMs › db-01 › db-01-nic › flow › verdict", "Access allowed", "allow-app-to-sql"} {
		if !strings.Contains(f, want) {
			t.Fatalf("final frame does not show %q:\n%s", want, f)
		}
	}
}

// The verdict as NO_COLOR draws it: the colour profile pinned to Ascii, which keeps bold,
// reverse, underline and faint and drops every colour. The golden keeps those escape codes, so
// it shows what still carries meaning without colour (the banner and the deciding row in
// reverse video, the markers).
func TestGoldenNoColorVerdict(t *testing.T) {
	eng := sampleEngine(t)
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	m := sized(eng, Start{Flow: &flow}, 80, 24)
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: colorprofile.Ascii}
	if _, err := w.WriteString(m.(Model).View().Content + "\n"); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if colourSGR.Match(out) {
		t.Fatalf("colours left with the Ascii profile: %q", out)
	}
	for _, want := range []string{" ✗ Access denied ", "65500 DenyAllInBound"} {
		if !reverseHas(out, want) {
			t.Fatalf("%q is not in reverse video without colour:\n%q", want, out)
		}
	}
	golden.RequireEqual(t, out)
}

var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|38;[25]|48;[25])[;m]`)

// reverseHas reports whether want appears on a line drawn in reverse video.
func reverseHas(out []byte, want string) bool {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(ansi.Strip(l), want) && reverseSGR.MatchString(l) {
			return true
		}
	}
	return false
}

var reverseSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?7[;m]`)
