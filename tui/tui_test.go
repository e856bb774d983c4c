package tui

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"ipflow/engine"
	"ipflow/model"
)

// The walk of issue 3, point by point: filter, open a VM, a NIC, fill the form, read the
// verdict, step, go back, change a field, check again.
func TestWalkFromVMListToVerdict(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{}, 80, 24)
	mustContain(t, m, "Virtual machines", "web-01", "batch-01", "deallocated", "10.0.1.4")

	m = send(t, m, "/")
	m = typeText(m, "web")
	mustContain(t, m, "2 of 7 VMs match", "web-01", "web-02")
	if strings.Contains(frame(m), "app-01") {
		t.Fatal("filter web still shows app-01")
	}
	m = send(t, m, "enter") // keeps the filter
	mustContain(t, m, "/ web", "(esc clears)")
	m = send(t, m, "enter")
	if screenOf(m) != "nics" {
		t.Fatalf("enter on a VM opened %q", screenOf(m))
	}
	mustContain(t, m, "VMs › web-01", "web-01-nic", "web-nic-nsg", "10.0.1.4", "subnet hub/web")

	m = send(t, m, "enter")
	if screenOf(m) != "form" {
		t.Fatalf("enter on a NIC opened %q", screenOf(m))
	}
	mustContain(t, m, "VMs › web-01 › web-01-nic › flow", "Direction", "Inbound", "TCP", "10.0.1.4")

	// Focus starts on Local port, the first empty field.
	m = typeText(m, "123")
	m = send(t, m, "tab")
	m = typeText(m, "13.107.21.200")
	m = send(t, m, "tab")
	m = typeText(m, "60000")
	mustContain(t, m, "Inbound TCP 13.107.21.200:60000 → 10.0.1.4:123")
	m = send(t, m, "enter")
	if screenOf(m) != "verdict" {
		t.Fatalf("enter on a valid form opened %q:\n%s", screenOf(m), frame(m))
	}
	mustContain(t, m, "› flow › verdict", "✗ Access denied", "defaultSecurityRules/DenyAllInBound",
		"web-subnet-nsg on subnet/hub/web", "DenyAllInBound", "Step 7 of 7")
	res := m.(Model).result()
	if res == nil || res.Access != model.Deny {
		t.Fatalf("verdict %v, want Deny", res)
	}

	// Step back to the first rule tried, then forward.
	m = send(t, m, "p", "p", "p", "p", "p", "p")
	mustContain(t, m, "Step 1 of 7", "deny-ssh-from-internet", "destination port 123 is not in 22")
	m = send(t, m, "n")
	mustContain(t, m, "Step 2 of 7", "destination port 123 is not in 443")
	m = send(t, m, "right")
	mustContain(t, m, "Step 3 of 7")
	m = send(t, m, "left")
	mustContain(t, m, "Step 2 of 7")

	// Back to the form, flow kept; change the port; check again.
	m = send(t, m, "e")
	if screenOf(m) != "form" {
		t.Fatalf("e went to %q", screenOf(m))
	}
	mustContain(t, m, "13.107.21.200", "60000", "123")
	m = send(t, m, "up", "up") // from Remote port, where enter was pressed, to Local port
	m = send(t, m, "backspace", "backspace", "backspace")
	m = typeText(m, "443")
	m = send(t, m, "enter")
	mustContain(t, m, "✓ Access allowed", "securityRules/allow-https")

	// esc walks back screen by screen and never quits.
	for _, want := range []string{"form", "nics", "vms", "vms"} {
		var cmd tea.Cmd
		var mm tea.Model
		mm, cmd = m.Update(keyMsg("esc"))
		m = mm
		if screenOf(m) != want {
			t.Fatalf("esc went to %q, want %q", screenOf(m), want)
		}
		if isQuit(cmd) {
			t.Fatal("esc quit")
		}
	}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestQuitKeys(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{}, 80, 24)
	if _, cmd := m.Update(keyMsg("q")); !isQuit(cmd) {
		t.Fatal("q on the VM list does not quit")
	}
	if _, cmd := m.Update(keyMsg("v")); isQuit(cmd) {
		t.Fatal("v quits (the bubbles list trap)")
	}
	// While filtering, q types.
	f := send(t, m, "/")
	f2, cmd := f.Update(keyMsg("q"))
	if isQuit(cmd) {
		t.Fatal("q quits while filtering")
	}
	mustContain(t, f2, "/ q")
	if _, cmd := f2.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Fatal("ctrl+c does not quit while filtering")
	}

	// In a text field of the form, q types; ctrl+c still quits.
	form := sized(eng, Start{VM: "web-01", NIC: "web-01-nic"}, 80, 24)
	if screenOf(form) != "form" {
		t.Fatalf("Start{VM, NIC} opened %q", screenOf(form))
	}
	form2, cmd := form.Update(keyMsg("q"))
	if isQuit(cmd) {
		t.Fatal("q quits from a text field")
	}
	mustContain(t, form2, "q ", "✗")
	if _, cmd := form2.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Fatal("ctrl+c does not quit from the form")
	}

	// The help toggles with ?. (Screens are shared between copies of the model, as in most
	// Bubble Tea programs, so start again rather than reuse m.)
	h := send(t, sized(eng, Start{}, 80, 24), "?")
	mustContain(t, h, "page down", "bottom")
	h = send(t, h, "?")
	if strings.Contains(frame(h), "page down") {
		t.Fatal("? does not hide the full help")
	}
}

func TestDeepLinkOpensVerdictWithStackBehindIt(t *testing.T) {
	eng := sampleEngine(t)
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	m := sized(eng, Start{VM: "web-01", Flow: &flow}, 80, 24)
	if screenOf(m) != "verdict" {
		t.Fatalf("a complete flow opened %q", screenOf(m))
	}
	mustContain(t, m, "VMs › web-01 › web-01-nic › flow › verdict", "Access denied")
	m = send(t, m, "esc")
	mustContain(t, m, "13.107.21.200", "60000", "123")
	m = send(t, m, "esc")
	if screenOf(m) != "nics" {
		t.Fatalf("esc from the form went to %q", screenOf(m))
	}
	m = send(t, m, "esc")
	if screenOf(m) != "vms" {
		t.Fatalf("esc from the NICs went to %q", screenOf(m))
	}
	mustContain(t, m, "▶ web-01")
}

func TestDeepLinkRefusedOpensFormWithEngineMessage(t *testing.T) {
	eng := sampleEngine(t)
	flow := engine.Flow{VM: "web-02", Direction: model.Outbound, Protocol: model.UDP,
		LocalIP: netip.MustParseAddr("10.0.1.9"), LocalPort: 53,
		RemoteIP: netip.MustParseAddr("8.8.8.8"), RemotePort: 53}
	m := sized(eng, Start{VM: "web-02", Flow: &flow}, 80, 24)
	if screenOf(m) != "form" {
		t.Fatalf("a refused flow opened %q", screenOf(m))
	}
	_, err := eng.Verify(flow)
	if err == nil {
		t.Fatal("the engine accepts the flow")
	}
	// The engine's own words, beside the Local IP field.
	f := frame(m)
	if !strings.Contains(strings.Join(strings.Fields(f), " "), "local IP 10.0.1.9 belongs to no NIC") {
		t.Fatalf("engine message missing:\n%s", f)
	}
	line := lineWith(f, "Local IP")
	if !strings.Contains(line, "✗") {
		t.Fatalf("Local IP not marked: %q", line)
	}
}

func lineWith(f, s string) string {
	for _, l := range strings.Split(f, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestStartUnknownAndDeallocated(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{VM: "web01"}, 80, 24)
	if screenOf(m) != "vms" {
		t.Fatalf("unknown VM opened %q", screenOf(m))
	}
	mustContain(t, m, `unknown VM "web01"`, `did you mean "web-01"`)

	m = sized(eng, Start{VM: "web-01", NIC: "nope"}, 80, 24)
	if screenOf(m) != "nics" {
		t.Fatalf("unknown NIC opened %q", screenOf(m))
	}
	mustContain(t, m, `has no NIC "nope"`, "web-01-nic")

	m = sized(eng, Start{VM: "batch-01"}, 80, 24)
	if screenOf(m) != "nics" {
		t.Fatalf("deallocated VM opened %q", screenOf(m))
	}
	mustContain(t, m, "deallocated", "requires that the VM is allocated")
	m = send(t, m, "enter")
	if screenOf(m) != "nics" {
		t.Fatal("a deallocated VM's NIC opened the form")
	}
	if !strings.Contains(m.(Model).status, "requires that the VM is allocated") {
		t.Fatalf("status %q", m.(Model).status)
	}

	// A deallocated VM given as a full flow shows the same, without a crash.
	flow := engine.Flow{VM: "batch-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.1.1.10"), LocalPort: 1, RemoteIP: netip.MustParseAddr("10.0.0.1"), RemotePort: 2}
	m = sized(eng, Start{VM: "batch-01", Flow: &flow}, 80, 24)
	mustContain(t, m, "requires that the VM is allocated")
}

func TestFormValidation(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{VM: "web-02", NIC: "web-02-nic"}, 80, 24)
	// Several IP configurations are shown.
	mustContain(t, m, "10.0.1.5, 10.0.1.6")

	// enter on an incomplete form moves to the first invalid field and marks it.
	m = send(t, m, "enter")
	if screenOf(m) != "form" {
		t.Fatal("enter on an incomplete form left it")
	}
	if l := lineWith(frame(m), "Local port"); !strings.Contains(l, "▶") || !strings.Contains(l, "✗ required") {
		t.Fatalf("Local port not focused and marked: %q", l)
	}
	// Marked as you type.
	m = typeText(m, "99999")
	if l := lineWith(frame(m), "Local port"); !strings.Contains(l, "out of range") {
		t.Fatalf("bad port not marked: %q", l)
	}
	m = send(t, m, "backspace", "backspace", "backspace", "backspace", "backspace")
	m = typeText(m, "*")
	if l := lineWith(frame(m), "Local port"); !strings.Contains(l, "only for the source port") {
		t.Fatalf("* as destination port not marked: %q", l)
	}
	m = send(t, m, "backspace")
	m = typeText(m, "22")

	// Local IP: another IP of the NIC is fine, one not on it is marked.
	m = send(t, m, "up")
	m = send(t, m, "ctrl+u")
	m = typeText(m, "10.0.1.6")
	if l := lineWith(frame(m), "Local IP"); strings.Contains(l, "✗") {
		t.Fatalf("second IP config refused: %q", l)
	}
	m = send(t, m, "ctrl+u")
	m = typeText(m, "10.0.1.7")
	if l := lineWith(frame(m), "Local IP"); !strings.Contains(l, "✗ not an IP of web-02-nic") {
		t.Fatalf("foreign IP not marked: %q", l)
	}
	m = send(t, m, "ctrl+u")
	m = typeText(m, "10.0.1.5")

	// ':' jumps from an address to its port; an empty source port is *.
	m = send(t, m, "down", "down")
	m = typeText(m, "10.0.2.10:")
	if l := lineWith(frame(m), "Remote port"); !strings.Contains(l, "▶") {
		t.Fatalf("':' did not move to the port: %q", l)
	}
	mustContain(t, m, "Inbound TCP 10.0.2.10:* → 10.0.1.5:22")

	// Protocol by first letter; ICMP makes ports n/a and skips them.
	m = send(t, m, "tab", "tab") // wraps to Direction, then Protocol
	if l := lineWith(frame(m), "Protocol"); !strings.Contains(l, "▶") {
		t.Fatalf("tab did not wrap around to Protocol: %q", l)
	}
	m = send(t, m, "i")
	mustContain(t, m, "ICMP", "n/a", "Inbound ICMP 10.0.2.10 → 10.0.1.5")
	m = send(t, m, "tab")
	if l := lineWith(frame(m), "Local IP"); !strings.Contains(l, "▶") {
		t.Fatalf("tab from Protocol: %q", l)
	}
	m = send(t, m, "tab")
	if l := lineWith(frame(m), "Remote IP"); !strings.Contains(l, "▶") {
		t.Fatalf("tab did not skip the n/a port: %q", l)
	}
	m = send(t, m, "enter")
	mustContain(t, m, "Azure's IP flow verify accepts only TCP and UDP")

	// Direction cycles with space and ←/→, o picks Outbound.
	// Back from the verdict, the focus is on the field last edited (Protocol).
	m = send(t, m, "esc")
	if l := lineWith(frame(m), "Protocol"); !strings.Contains(l, "▶") {
		t.Fatalf("esc from the verdict did not focus the field last edited: %q", l)
	}
	m = send(t, m, "shift+tab")
	if l := lineWith(frame(m), "Direction"); !strings.Contains(l, "▶") {
		t.Fatalf("shift+tab did not reach Direction: %q", l)
	}
	m = send(t, m, "o")
	mustContain(t, m, "Outbound ICMP 10.0.1.5 → 10.0.2.10")
	m = send(t, m, "space")
	mustContain(t, m, "Inbound ICMP")
	m = send(t, m, "right")
	mustContain(t, m, "Outbound ICMP")
}

func TestPasteEndpointSplits(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{VM: "web-01", NIC: "web-01-nic"}, 80, 24)
	m = send(t, m, "down") // Remote IP
	m, _ = m.Update(tea.PasteMsg{Content: "13.107.21.200:60000\n"})
	m = send(t, m, "up")
	m = typeText(m, "443")
	mustContain(t, m, "Inbound TCP 13.107.21.200:60000 → 10.0.1.4:443")
}

func TestVerdictChainMarks(t *testing.T) {
	eng := sampleEngine(t)
	// Allowed by the NIC NSG after the subnet NSG allowed through peering.
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 443,
		RemoteIP: netip.MustParseAddr("10.2.1.4"), RemotePort: 50000}
	m := sized(eng, Start{Flow: &flow}, 140, 40)
	f := frame(m)
	for _, want := range []string{"✓ Access allowed", "securityRules/allow-https",
		"NSG web-subnet-nsg on subnet/hub/web: allowed by defaultSecurityRules/AllowVnetInBound",
		"NSG web-nic-nsg on networkInterface/web-01-nic: allowed by securityRules/allow-https",
		"not evaluated"} {
		if !strings.Contains(f, want) {
			t.Fatalf("missing %q:\n%s", want, f)
		}
	}
	// Every rule row has its mark: ✗ tried, ✓ matched (passed on), ▶ deciding, · not evaluated.
	if l := lineWith(f, "65000 AllowVnetInBound"); !strings.Contains(l, "✓") || !strings.Contains(l, "through peering hub ↔ spoke-data") {
		t.Fatalf("matched rule row: %q", l)
	}
	if l := lineWith(f, "DenyAllInBound "); !strings.Contains(l, "·") {
		t.Fatalf("not evaluated row: %q", l)
	}
	if l := lineWith(f, "allow-http-redirect"); !strings.Contains(l, "✗") {
		t.Fatalf("failed row: %q", l)
	}
	// The deciding row is reverse video (meaning without colour).
	raw := m.(Model).View().Content
	for _, l := range strings.Split(raw, "\n") {
		if strings.Contains(ansi.Strip(l), "▶   100 allow-https") && !strings.Contains(l, "7m") && !strings.Contains(l, ";7") {
			t.Fatalf("deciding row is not reverse: %q", l)
		}
	}
	// Stepping to the matched rule of the subnet NSG explains the peering.
	m = send(t, m, "p")
	mustContain(t, m, "source 10.2.1.4 is in VirtualNetwork through peering hub ↔ spoke-data", "this NSG allows")
}

func TestCopySummary(t *testing.T) {
	eng := sampleEngine(t)
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	m := sized(eng, Start{Flow: &flow}, 80, 24)
	m, cmd := m.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("y gave no command")
	}
	msg := cmd()
	want := m.(Model).result().Summary()
	if got := strings.TrimSpace(stringOf(msg)); !strings.Contains(got, strings.TrimSpace(want)) {
		t.Fatalf("clipboard %q, want the summary %q", got, want)
	}
	mustContain(t, m, "Sent the verdict summary to the terminal's clipboard (OSC 52)")
}

// stringOf extracts the text of a SetClipboard message (its type is unexported).
func stringOf(msg tea.Msg) string {
	if s, ok := msg.(interface{ String() string }); ok {
		return s.String()
	}
	return fmt.Sprint(msg)
}

func sampleSourcesWithHostileName() []model.Source {
	return []model.Source{{Name: "hostile.toml", Data: []byte(`
[[vnet]]
name = "v"
address_space = ["10.0.0.0/16"]

  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"

[[vm]]
name = "evil\u001b[2J\u001b]52;c;ZXZpbA==\u0007"

  [[vm.nic]]
  name = "nic\u001b[31m"
  private_ip = "10.0.1.4"
  subnet = "v/s"
`)}}
}

func TestTooSmall(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{}, MinWidth-1, MinHeight)
	mustContain(t, m, "Terminal too small", "50×12")
	m, _ = m.Update(tea.WindowSizeMsg{Width: MinWidth, Height: MinHeight})
	mustContain(t, m, "Virtual machines")
	m, _ = m.Update(tea.WindowSizeMsg{Width: 30, Height: 5})
	checkFrame(t, m, 30, 5)
	if _, cmd := m.Update(keyMsg("q")); !isQuit(cmd) {
		t.Fatal("q does not quit from the too-small frame")
	}
}

// Names from fixtures never reach the terminal raw.
func TestHostileNamesAreEscaped(t *testing.T) {
	env, err := model.Load(sampleSourcesWithHostileName()...)
	if err != nil {
		t.Fatalf("the sample with a hostile VM name does not load: %v", err)
	}
	checkHostile(t, env)
}

func TestHostileNamesSetDirectly(t *testing.T) {
	eng := sampleEngine(t)
	env := eng.Environment()
	// Rename after loading, as a loader that let such a name through would.
	evil := "web-01\x1b[2J\x1b]52;c;ZXZpbA==\x07\u202e"
	env.VMs[0].Name = evil
	env.VMs[0].NICs[0].Name = "nic\x1b[31m"
	env.VMs[0].NICs[0].NSG.Name = "nsg\r\n"
	checkHostile(t, env)
}

func checkHostile(t *testing.T, env *model.Environment) {
	t.Helper()
	eng := engine.Compile(env)
	vm := env.VMs[0]
	flow := engine.Flow{VM: vm.Name, Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: vm.NICs[0].PrimaryIPConfig().PrivateIP, LocalPort: 443,
		RemoteIP: netip.MustParseAddr("10.2.1.4"), RemotePort: 50000}
	screens := []tea.Model{
		sized(eng, Start{}, 100, 30),
		send(t, sized(eng, Start{}, 100, 30), "enter"),
		send(t, sized(eng, Start{}, 100, 30), "enter", "enter"),
		sized(eng, Start{Flow: &flow}, 100, 30),
		send(t, sized(eng, Start{Flow: &flow}, 100, 30), "r", "enter"),       // the NSG's table
		send(t, sized(eng, Start{}, 100, 30), "enter", "r", "down", "enter"), // effective rules
		send(t, sized(eng, Start{}, 100, 30), "enter", "a"),                  // reach
		send(t, sized(eng, Start{}, 100, 30), "m"),                           // matrix
		send(t, sized(eng, Start{Flow: &flow}, 100, 30), "c"),                // copied commands
	}
	for i, m := range screens {
		raw := m.(Model).View().Content
		// Only SGR sequences (ESC [ … m) may appear: no ESC ] (OSC), no clear screen, no BEL, no CR.
		plain := stripSGR(raw)
		for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e"} {
			if strings.Contains(plain, bad) {
				t.Fatalf("screen %d sends %q raw:\n%q", i, bad, plain)
			}
		}
		if !strings.Contains(plain, `\x1b`) {
			t.Fatalf("screen %d does not show the escaped name:\n%s", i, plain)
		}
	}
}

// stripSGR removes ESC [ params m sequences only.
func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestBackgroundColourRestyles(t *testing.T) {
	eng := sampleEngine(t)
	m := sized(eng, Start{}, 80, 24)
	before := m.(Model).View().Content
	m, _ = m.Update(tea.BackgroundColorMsg{Color: lightBG{}})
	after := m.(Model).View().Content
	if before == after {
		t.Fatal("a light background did not change the styles")
	}
	if ansi.Strip(before) != ansi.Strip(after) {
		t.Fatal("the theme changed the text, not only the colours")
	}
	if cmd := New(eng, Start{}).Init(); cmd == nil {
		t.Fatal("Init does not request the background colour")
	}
}

type lightBG struct{}

func (lightBG) RGBA() (r, g, b, a uint32) { return 0xffff, 0xffff, 0xffff, 0xffff }

func TestViewIsAltScreenWithoutMouse(t *testing.T) {
	v := sized(sampleEngine(t), Start{}, 80, 24).(Model).View()
	if !v.AltScreen {
		t.Fatal("not on the alternate screen")
	}
	if v.MouseMode != tea.MouseModeNone {
		t.Fatal("mouse capture is on")
	}
}

// A 1000-rule NSG must be navigable: the chain scrolls to its end and back.
func TestLongChainScrolls(t *testing.T) {
	eng := bigNSGEngine(t)
	flow := bigFlow()
	m := sized(eng, Start{Flow: &flow}, 80, 24)
	if screenOf(m) != "verdict" {
		t.Fatalf("opened %q:\n%s", screenOf(m), frame(m))
	}
	mustContain(t, m, "Access allowed", "AllowVnetInBound")
	m = send(t, m, "G")
	mustContain(t, m, "DenyAllInBound")
	checkFrame(t, m, 80, 24)
	m = send(t, m, "g")
	mustContain(t, m, "Step 1 of")
	for range 50 {
		m = send(t, m, "pgdown")
	}
	checkFrame(t, m, 80, 24)
	m = send(t, m, "d")
	mustContain(t, m, "this rule decides")
}

func TestLargeVMListFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 VMs")
	}
	eng := largeEngine(t)
	m := sized(eng, Start{}, 80, 24)
	mustContain(t, m, "10000 VMs", "vm-0")
	m = send(t, m, "/")
	m = typeText(m, "vm-9999")
	mustContain(t, m, "1 of 10000 VMs match", "vm-9999")
	m = send(t, m, "esc")
	mustContain(t, m, "10000 VMs")
	m = send(t, m, "G")
	mustContain(t, m, "vm-9999")
}
