package tui

import (
	"net/netip"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"ipflow/engine"
	"ipflow/model"
)

func denyFlow() engine.Flow {
	return engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
}

// Item 1: typing into a prefilled field replaces its value, never appends to it.
func TestTypingReplacesPrefilledField(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 80, 24)
	m = send(t, m, "e")
	if l := lineWith(frame(m), "Local port"); !strings.Contains(l, "▶") {
		t.Fatalf("e from a verdict from flags: focus not on Local port: %q", l)
	}
	m = typeText(m, "443")
	m = send(t, m, "enter")
	res := m.(Model).result()
	if res == nil || res.Flow.LocalPort != 443 || res.Access != model.Allow {
		t.Fatalf("verdict %+v, want local port 443 allowed", res)
	}
	// Tab into a field selects it too; a cursor key keeps the value and edits in place.
	m = send(t, m, "e", "tab", "tab") // Local port → Remote IP → Remote port
	m = typeText(m, "5")
	mustContain(t, m, "13.107.21.200:5 → 10.0.1.4:443")
	m = send(t, m, "shift+tab", "end") // Remote IP, selected, then the cursor keeps it
	m = typeText(m, "1")
	if l := lineWith(frame(m), "Remote IP"); !strings.Contains(l, "13.107.21.2001") {
		t.Fatalf("a cursor key did not keep the value: %q", l)
	}
	// Longer than a port: kept on screen and marked, never cut into another port.
	m = send(t, m, "tab")
	m = typeText(m, "123443")
	if l := lineWith(frame(m), "Remote port"); !strings.Contains(l, "123443") || !strings.Contains(l, "✗") {
		t.Fatalf("an over-long port is not kept and marked: %q", l)
	}
	m = send(t, m, "enter")
	if screenOf(m) != "form" {
		t.Fatal("enter checked a flow with an invalid port")
	}
}

// A paste longer than a field takes is refused whole, not cut.
func TestOverlongPasteRefused(t *testing.T) {
	m := sized(sampleEngine(t), Start{VM: "web-01", NIC: "web-01-nic"}, 80, 24)
	m, _ = m.Update(tea.PasteMsg{Content: strings.Repeat("4", 80)})
	if l := lineWith(frame(m), "Local port"); strings.Contains(l, "4444") {
		t.Fatalf("an 80-digit paste was cut into the field: %q", l)
	}
	mustContain(t, m, "Local port: longer than the field takes (64 characters); nothing was inserted")
}

// Item 2: back from a verdict the focus is on the field last edited; a flag error is beside
// the field it is about.
func TestFocusAndErrorsBesideTheirField(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{VM: "web-01", NIC: "web-01-nic"}, 80, 24)
	m = typeText(m, "443")
	m = send(t, m, "tab")
	m = typeText(m, "10.2.1.4")
	m = send(t, m, "enter")
	if screenOf(m) != "verdict" {
		t.Fatalf("on %q", screenOf(m))
	}
	m = send(t, m, "esc")
	if l := lineWith(frame(m), "Remote IP"); !strings.Contains(l, "▶") {
		t.Fatalf("focus not on the field last edited: %q", l)
	}
	// --local 10.0.1.4:* (inbound): the engine's refusal is beside Local port.
	flow := denyFlow()
	flow.LocalPort = engine.AnyPort
	m = sized(eng, Start{Flow: &flow}, 80, 24)
	if screenOf(m) != "form" {
		t.Fatalf("a refused flow opened %q", screenOf(m))
	}
	if l := lineWith(frame(m), "Local port"); !strings.Contains(l, "✗ local port * is not allowed inbound") {
		t.Fatalf("Local port not marked: %q\n%s", l, frame(m))
	}
	if l := lineWith(frame(m), "Local IP"); strings.Contains(l, "✗") {
		t.Fatalf("Local IP marked for a port error: %q", l)
	}
}

// Item 3: the flow is kept across VMs and NICs; Local IP is the new NIC's primary IP.
func TestFlowRememberedAcrossNICs(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 80, 24)
	m = send(t, m, "e", "esc", "esc", "esc") // form, NICs, VMs (web-01 selected)
	m = send(t, m, "down", "enter", "enter") // web-02, its NIC's form
	mustContain(t, m, "Flow to check on web-02", "Inbound TCP 13.107.21.200:60000 → 10.0.1.5:123")
	m = send(t, m, "enter")
	if res := m.(Model).result(); res == nil || res.VM.Name != "web-02" || res.Flow.LocalPort != 123 {
		t.Fatalf("verdict %+v", res)
	}
}

// Item 4: the reverse-video bar is the cursor; the deciding rule keeps ▶ without it.
func TestCursorBarMovesInTheChain(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 100, 40)
	reverse := func(m tea.Model) []string {
		var out []string
		for _, l := range strings.Split(m.(Model).View().Content, "\n") {
			if reverseSGR.MatchString(l) && !strings.Contains(ansi.Strip(l), "Access denied") {
				out = append(out, strings.TrimSpace(ansi.Strip(l)))
			}
		}
		return out
	}
	if r := reverse(m); len(r) != 1 || !strings.Contains(r[0], "DenyAllInBound") {
		t.Fatalf("reverse rows at start %q", r)
	}
	m = send(t, m, "k")
	r := reverse(m)
	if len(r) != 1 || !strings.Contains(r[0], "AllowAzureLoadBalancerInBound") {
		t.Fatalf("after k the bar is on %q, want the rule above", r)
	}
	if l := lineWith(frame(m), "65500 DenyAllInBound"); !strings.Contains(l, "▶") || !strings.Contains(l, "decides") {
		t.Fatalf("the deciding rule lost its marker: %q", l)
	}
}

// Item 5: at 50 columns the flow shows both ports; the step panel shows the description.
func TestNothingCutOff(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 50, 24)
	f := strings.Join(strings.Fields(frame(m)), " ")
	for _, want := range []string{"13.107.21.200:60000 → 10.0.1.4:123", "Deny all inbound traffic"} {
		if !strings.Contains(f, want) {
			t.Fatalf("missing %q at 50 columns:\n%s", want, frame(m))
		}
	}
	// At 120 columns a 64-character rule name is whole in the chain.
	long := strings.Repeat("n", 64)
	env := sampleWith(t, "allow-https", long)
	m = sized(engine.Compile(env), Start{Flow: &flow}, 120, 40)
	if l := lineWith(frame(m), long); !strings.Contains(l, long) || strings.Contains(l, "…") {
		t.Fatalf("a 64-character name is cut at 120 columns: %q", l)
	}
}

// sampleWith is the sample with one rule renamed.
func sampleWith(t *testing.T, rule, name string) *model.Environment {
	t.Helper()
	env := sampleEngine(t).Environment()
	for _, n := range env.NSGs {
		for _, r := range n.Rules {
			if r.Name == rule {
				r.Name = name
			}
		}
	}
	return env
}

// Item 6: the NIC screen shows subnet and ASGs at 80 columns.
func TestNICScreenShowsSubnetAndASGs(t *testing.T) {
	m := sized(sampleEngine(t), Start{VM: "app-01"}, 80, 24)
	mustContain(t, m, "subnet spoke-app/app", "ASG app", "subnet spoke-app/egress", "subnet NSG egress-nsg")
}

// Item 7: fixture warnings are counted in the header and listed by w.
func TestWarningsShown(t *testing.T) {
	env, err := model.Load(model.Source{Name: "w.toml", Data: []byte(`
[[vnet]]
name = "v"
address_space = ["10.0.0.0/16"]

  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"

[[nsg]]
name = "orphan-nsg"

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
	m := sized(engine.Compile(env), Start{}, 80, 24)
	mustContain(t, m, "⚠ 1 warning (w)")
	m = send(t, m, "w")
	if screenOf(m) != "warnings" {
		t.Fatalf("w opened %q", screenOf(m))
	}
	mustContain(t, m, "Fixture warnings", `nsg "orphan-nsg": attached to no subnet and no NIC`)
	m = send(t, m, "esc")
	if screenOf(m) != "vms" {
		t.Fatalf("esc from warnings went to %q", screenOf(m))
	}
}

// Item 10: / starts a new query; a query matches names, IPs by prefix or CIDR, subnets,
// VNets, NSGs and ASGs; esc clears it and keeps the cursor on its VM.
func TestVMFilterFindsThings(t *testing.T) {
	eng := sampleEngine(t)
	cases := []struct{ q, want, not string }{
		{"10.1.", "app-01", "web-01"},
		{"10.0.0.0/16", "jump-01", "app-01"},
		{"egress", "app-01", "web-01"},     // a NIC name and a subnet
		{"spoke-data", "db-01", "app-01"},  // a VNet
		{"web-nic-nsg", "web-02", "db-01"}, // an NSG
		{"mgmt", "jump-01", "web-01"},      // a subnet
	}
	for _, c := range cases {
		m := sized(eng, Start{}, 80, 24)
		m = send(t, m, "/")
		m = typeText(m, c.q)
		f := frame(m)
		if !strings.Contains(f, c.want) || strings.Contains(f, "  "+c.not+" ") {
			t.Fatalf("filter %q:\n%s", c.q, f)
		}
	}
	m := sized(eng, Start{}, 80, 24)
	m = send(t, m, "/")
	m = typeText(m, "10.1.")
	m = send(t, m, "enter", "/")
	m = typeText(m, "db-0")
	mustContain(t, m, "1 of 7 VMs match", "/ db-0")
	m = send(t, m, "enter", "esc")
	mustContain(t, m, "7 VMs", "▶ db-01")
}

// Item 11: / searches the chain, ]/[ jump between layers, x hides what was not evaluated.
func TestChainSearchLayersAndHiding(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 100, 40)
	m = send(t, m, "/")
	m = typeText(m, "443")
	m = send(t, m, "enter")
	mustContain(t, m, "/ 443", "2 matches")
	if l := lineWith(frame(m), "allow-https-from-internet"); !strings.HasPrefix(strings.TrimSpace(l), "»") {
		t.Fatalf("the match is not marked: %q", l)
	}
	m = send(t, m, "esc", "g", "]")
	mustContain(t, m, "Step 2 of 7")
	m = send(t, m, "[")
	mustContain(t, m, "Step 1 of 7")
	before := strings.Count(frame(m), "not evaluated")
	m = send(t, m, "x")
	if after := strings.Count(frame(m), "· "); after >= before && strings.Contains(frame(m), "AllowAzureLoadBalancerInBound") {
		t.Fatalf("x did not hide the rules not evaluated:\n%s", frame(m))
	}
	m = send(t, m, "x")
	mustContain(t, m, "AllowAzureLoadBalancerInBound")
}

// Item 12: r opens the whole NSG of a rule, also one the flow never reached; enter expands tags.
func TestNSGTableFromTheChain(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 100, 40)
	m = send(t, m, "G") // the last rule: in web-nic-nsg, which the flow never reached
	m = send(t, m, "r")
	if screenOf(m) != "rules" {
		t.Fatalf("r opened %q", screenOf(m))
	}
	mustContain(t, m, "NSG web-nic-nsg", "Inbound rules", "Outbound rules", "allow-https", "deny-smtp-out", "DenyAllOutBound")
	m = send(t, m, "g", "down", "down", "down", "enter") // AllowVnetInBound
	mustContain(t, m, "10.0.0.0/16", "VirtualNetwork: VNet hub", "VirtualNetwork: peered VNet spoke-app")
	m = send(t, m, "esc")
	if screenOf(m) != "verdict" {
		t.Fatalf("esc from the table went to %q", screenOf(m))
	}
}

// Item 13: r on the NIC screen opens its effective security rules.
func TestEffectiveRulesFromNICs(t *testing.T) {
	m := sized(sampleEngine(t), Start{VM: "app-01"}, 100, 60)
	m = send(t, m, "r")
	if screenOf(m) != "rules" {
		t.Fatalf("r opened %q", screenOf(m))
	}
	f := frame(m)
	order := []string{"Inbound rules", "Security admin rules on virtualNetwork/spoke-app", "NSG app-subnet-nsg on subnet/spoke-app/app",
		"No NSG on networkInterface/app-01-nic", "Outbound rules"}
	last := -1
	for _, s := range order {
		i := strings.Index(f, s)
		if i < last {
			t.Fatalf("%q out of order:\n%s", s, f)
		}
		last = i
	}
	m = send(t, m, "down", "enter") // allow-web-to-app: ASGs
	mustContain(t, m, "ASG web: web-01-nic ipconfig1", "ASG web: web-02-nic ipconfig1")
}

// Item 14: c copies the command lines and shows them; y the summary.
func TestCopyCommandLines(t *testing.T) {
	flow := denyFlow()
	m := sized(sampleEngine(t), Start{Flow: &flow}, 100, 40)
	m, cmd := m.Update(keyMsg("c"))
	if cmd == nil {
		t.Fatal("c gave no command")
	}
	got := stringOf(cmd())
	for _, want := range []string{
		"ipflow verify --vm web-01 --nic web-01-nic --direction inbound --protocol tcp --local 10.0.1.4:123 --remote 13.107.21.200:60000",
		"az network watcher test-ip-flow --vm web-01 --nic web-01-nic --direction Inbound --protocol TCP --local 10.0.1.4:123 --remote 13.107.21.200:60000",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("clipboard %q lacks %q", got, want)
		}
		if !strings.Contains(strings.Join(strings.Fields(frame(m)), " "), want) {
			t.Fatalf("the commands are not shown:\n%s", frame(m))
		}
	}
	mustContain(t, m, "Sent the command lines to the terminal's clipboard (OSC 52)")
	mustNotContain(t, m, "Copied", "tmux drops it")
}

// A terminal never answers OSC 52, so a copy is "sent", never "copied"; inside a tmux that
// drops it (set-clipboard not on), the status says so and how to fix it. tmux is asked once,
// at the first copy, not at start.
func TestCopyIsSentNeverCopied(t *testing.T) {
	flow := denyFlow()
	for _, drops := range []bool{false, true} {
		m := sized(sampleEngine(t), Start{Flow: &flow}, 100, 40)
		asked := 0
		m.(Model).c.tmuxDrops = func() bool { asked++; return drops }
		var tm tea.Model = m
		for _, k := range []string{"y", "c", "y"} {
			tm, _ = tm.Update(keyMsg(k))
			mustNotContain(t, tm, "Copied", "copied")
			mustContain(t, tm, "to the terminal's clipboard (OSC 52")
			if drops {
				mustContain(t, tm, "tmux drops it: set -s")
			} else {
				mustNotContain(t, tm, "tmux drops it")
			}
		}
		if asked != 1 {
			t.Fatalf("tmux asked %d times, want once", asked)
		}
	}
}

// Every key the screens handle is in the KeyMap: the help of each screen names only keys
// that have a binding, and no binding is empty.
func TestKeyMapHasEveryKey(t *testing.T) {
	k := DefaultKeyMap()
	bindings := []struct {
		name string
		keys []string
	}{
		{"Quit", k.Quit.Keys()}, {"Force", k.Force.Keys()}, {"Back", k.Back.Keys()}, {"Search", k.Search.Keys()},
		{"Table", k.Table.Keys()}, {"CopyCmd", k.CopyCmd.Keys()}, {"NotEvaluated", k.NotEvaluated.Keys()},
		{"NextLayer", k.NextLayer.Keys()}, {"Effective", k.Effective.Keys()}, {"Warnings", k.Warnings.Keys()},
	}
	for _, b := range bindings {
		if len(b.keys) == 0 {
			t.Fatalf("binding %s has no keys", b.name)
		}
	}
}
