package flows_test

import (
	"errors"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/flows"
	"ipflow/model"
)

var sample = engine.Compile(model.MustLoad(fixtures.Sample()...))

const okFlow = `
[[flow]]
name = "ok"
vm = "web-01"
direction = "inbound"
protocol = "tcp"
local = "10.0.1.4:443"
remote = "13.107.21.200:60000"
expect = "allow"
`

// loadErrors loads files (named a.toml, b.toml, ...) and checks them against the sample; it
// returns every error line.
func loadErrors(t *testing.T, record bool, texts ...string) []string {
	t.Helper()
	var srcs []model.Source
	for i, s := range texts {
		srcs = append(srcs, model.Source{Name: string(rune('a'+i)) + ".toml", Data: []byte(s)})
	}
	f, err := flows.Load(record, srcs...)
	if err == nil || len(f.Flows) > 0 {
		err = f.Check(sample) // with Load's errors
	}
	if err == nil {
		return nil
	}
	var le *model.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T, not a *model.LoadError: %v", err, err)
	}
	var out []string
	for _, is := range le.Errors {
		out = append(out, is.String())
	}
	return out
}

// TestFlowsFileErrors covers every error a flows file can have: each is reported at file:line
// with the flow, the key, and what would be valid.
func TestFlowsFileErrors(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"syntax", "[[flow]]\nname = \"x\nvm = 1\n",
			[]string{"a.toml:2: TOML syntax error"}},
		{"no flows", "# nothing here\n",
			[]string{"a.toml: no flows: a flows file holds [[flow]] tables"}},
		{"flow key outside a flow", "vm = \"web-01\"\n" + okFlow,
			[]string{"a.toml:1: vm: flow keys belong to a flow: write [[flow]] before them"}},
		{"unknown top-level key", "flows = 1\n" + okFlow,
			[]string{`a.toml:1: unknown key flows; did you mean flow?`}},
		{"flow is not an array of tables", "[flow]\nname = \"x\"\n",
			[]string{"a.toml:1: flow: expected an array of tables written [[flow]], got a single table; write [[flow]]"}},
		{"flow is a string", "flow = \"x\"\n",
			[]string{"a.toml:1: flow: expected an array of tables ([[flow]]), got a string (\"x\")"}},
		{"unknown key", strings.Replace(okFlow, "protocol =", "protocl =", 1),
			[]string{`a.toml:2: flow "ok": missing required key protocol (tcp, udp, icmp, esp or ah)`,
				`a.toml:6: flow "ok": unknown key protocl; did you mean protocol?`}},
		{"hint", okFlow[:len(okFlow)-1] + "\naccess = \"Allow\"\n",
			[]string{`a.toml:10: flow "ok": access: write expect = "allow" or "deny"`}},
		{"missing keys", "[[flow]]\nexpect = \"deny\"\n",
			[]string{`a.toml:1: flow #1: missing required key name (a non-empty string that names the flow in reports)`,
				`a.toml:1: flow #1: missing required key vm (the VM's name)`,
				`a.toml:1: flow #1: missing required key direction (inbound or outbound)`,
				`a.toml:1: flow #1: missing required key protocol (tcp, udp, icmp, esp or ah)`,
				`a.toml:1: flow #1: missing required key local (the VM's IP:PORT)`,
				`a.toml:1: flow #1: missing required key remote (the remote IP:PORT)`}},
		{"missing expect", strings.Replace(okFlow, "expect = \"allow\"\n", "", 1),
			[]string{`a.toml:2: flow "ok": missing required key expect (allow or deny; ipflow test --record fills it from today's verdict)`}},
		{"wrong types", strings.Replace(strings.Replace(okFlow, `vm = "web-01"`, "vm = 7", 1), `name = "ok"`, "name = true", 1),
			[]string{`a.toml:3: flow #1: name: expected a string, got a boolean (true)`,
				`a.toml:4: flow #1: vm: expected a string, got an integer (7)`}},
		{"empty name", strings.Replace(okFlow, `name = "ok"`, `name = " "`, 1),
			[]string{`a.toml:3: flow #1: name: must not be empty`}},
		{"bad fields", strings.NewReplacer(`"inbound"`, `"in"`, `"tcp"`, `"tcpx"`, `"10.0.1.4:443"`, `"10.0.1.4"`, `"13.107.21.200:60000"`, `"13.107.21.200:70000"`).Replace(okFlow),
			[]string{`a.toml:5: flow "ok": direction: "in": must be inbound or outbound`,
				`a.toml:6: flow "ok": protocol: "tcpx": must be tcp, udp, icmp, esp or ah`,
				`a.toml:7: flow "ok": local: "10.0.1.4": must be IP:PORT`,
				`a.toml:8: flow "ok": remote: port "70000": out of range 0..65535`}},
		{"empty nic", okFlow + "nic = \"\"\n",
			[]string{`a.toml:10: flow "ok": nic: must not be empty (leave it out to use the NIC that holds the local IP)`}},
		{"bad expect", strings.Replace(okFlow, `expect = "allow"`, `expect = "permit"`, 1),
			[]string{`a.toml:9: flow "ok": expect "permit": must be allow or deny`}},
		{"bare rule name", okFlow + "rule = \"allow-https\"\n",
			[]string{`a.toml:10: flow "ok": rule "allow-https": write the rule as verify names it: securityRules/allow-https (or defaultSecurityRules/..., securityAdminRules/...)`}},
		{"rule kind", okFlow + "rule = \"securityRule/allow-https\"\n",
			[]string{`a.toml:10: flow "ok": rule "securityRule/allow-https": "securityRule" is not a kind of rule; must be securityRules, defaultSecurityRules or securityAdminRules (did you mean securityRules?)`}},
		{"rule name", okFlow + "rule = \"securityRules/allow https\"\n",
			[]string{`a.toml:10: flow "ok": rule "securityRules/allow https": "allow https" is not a valid rule name`}},
		{"rule not written like a rule", okFlow + "rule = \"allow https\"\n",
			[]string{`a.toml:10: flow "ok": rule "allow https": must be securityRules/NAME, defaultSecurityRules/NAME or securityAdminRules/NAME`}},
		{"wrong types of optional keys", okFlow + "nic = 1\nrule = 2\nnsg = 3\n",
			[]string{`a.toml:10: flow "ok": nic: expected a string, got an integer (1)`,
				`a.toml:11: flow "ok": rule: expected a string, got an integer (2)`,
				`a.toml:12: flow "ok": nsg: expected a string, got an integer (3)`}},
		{"empty nsg", okFlow + "nsg = \"\"\n",
			[]string{`a.toml:10: flow "ok": nsg: must not be empty (leave it out to accept any NSG)`}},
		// Checked against the estate:
		{"unknown rule", okFlow + "rule = \"securityRules/allow-htps\"\n",
			[]string{`a.toml:10: flow "ok": rule "securityRules/allow-htps": no rule of that name in the estate; did you mean "securityRules/allow-https"?`}},
		{"unknown default rule", okFlow + "rule = \"defaultSecurityRules/DenyAllInbound\"\n",
			[]string{`a.toml:10: flow "ok": rule "defaultSecurityRules/DenyAllInbound": no rule of that name in the estate; did you mean "defaultSecurityRules/DenyAllInBound"?`}},
		{"unknown nsg", okFlow + "nsg = \"web-nic\"\n",
			[]string{`a.toml:10: flow "ok": nsg "web-nic": no NSG of that name in the estate`}},
		{"unknown nsg, suggested", okFlow + "nsg = \"web-nic-nsh\"\n",
			[]string{`a.toml:10: flow "ok": nsg "web-nic-nsh": no NSG of that name in the estate; did you mean "web-nic-nsg"?`}},
		{"unknown vm", strings.Replace(okFlow, `"web-01"`, `"web-1"`, 1),
			[]string{`a.toml:4: flow "ok": vm: unknown VM "web-1" (did you mean "web-01"?)`}},
		{"deallocated vm", strings.NewReplacer(`"web-01"`, `"batch-01"`, "10.0.1.4", "10.1.1.10").Replace(okFlow),
			[]string{`a.toml:4: flow "ok": vm: VM "batch-01" is deallocated`}},
		{"local IP not on the VM", strings.Replace(okFlow, "10.0.1.4:", "10.0.1.9:", 1),
			[]string{`a.toml:7: flow "ok": local: `}},
		{"unknown nic", okFlow + "nic = \"web-02-nic\"\n",
			[]string{`a.toml:10: flow "ok": nic: `}},
		{"hostile name", strings.Replace(strings.Replace(okFlow, `name = "ok"`, `name = "ok\u001b[31m"`, 1), `expect = "allow"`, "expect = 1", 1),
			[]string{`flow "ok\x1b[31m": expect: expected a string`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := loadErrors(t, false, c.text)
			if len(got) != len(c.want) {
				t.Fatalf("%d errors, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s", i, got[i], w)
				}
				if strings.ContainsAny(got[i], "\x1b\x00") {
					t.Errorf("raw control character in %q", got[i])
				}
			}
		})
	}
}

// Every error of every file is reported in one go, in file and line order, those against the
// estate too.
func TestFlowsFileAllErrorsAtOnce(t *testing.T) {
	a := okFlow + strings.Replace(strings.Replace(okFlow, `"inbound"`, `"sideways"`, 1), `name = "ok"`, `name = "two"`, 1) + "nsg = \"web-nic-nsh\"\n"
	b := strings.Replace(strings.Replace(okFlow, `"tcp"`, `"tcpp"`, 1), `expect = "allow"`, "", 1)
	got := loadErrors(t, false, a, b)
	want := []string{
		`a.toml:14: flow "two": direction: "sideways": must be inbound or outbound`,
		`a.toml:19: flow "two": nsg "web-nic-nsh": no NSG of that name in the estate; did you mean "web-nic-nsg"?`,
		`b.toml:2: flow "ok": missing required key expect`,
		`b.toml:3: flow "ok": name: defined twice; first defined at a.toml:2 (names identify flows in reports)`,
		`b.toml:6: flow "ok": protocol: "tcpp": must be tcp, udp, icmp, esp or ah`,
	}
	if len(got) != len(want) {
		t.Fatalf("got:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) && !strings.Contains(got[i], want[i]) {
			t.Errorf("error %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// With record, expect is optional; everything else is checked as usual.
func TestFlowsFileRecordMode(t *testing.T) {
	noExpect := strings.Replace(okFlow, "expect = \"allow\"\n", "", 1)
	if got := loadErrors(t, true, noExpect); got != nil {
		t.Errorf("record: %v", got)
	}
	if got := loadErrors(t, true, strings.Replace(noExpect, `"tcp"`, `"tcpx"`, 1)); len(got) != 1 {
		t.Errorf("record, bad protocol: %v", got)
	}
}

// The sample's flows file passes on the sample, every flow.
func TestSampleFlowsPass(t *testing.T) {
	f, err := flows.Load(false, fixtures.SampleFlows())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Check(sample); err != nil {
		t.Fatal(err)
	}
	outs, err := f.Run(sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) < 8 {
		t.Fatalf("%d flows", len(outs))
	}
	for _, o := range outs {
		if !o.Pass {
			t.Errorf("%s: %s", o.Name, o.Why)
		}
	}
}

// A recording reads back as the same flows, whatever characters the names hold.
func TestRecordRoundTrip(t *testing.T) {
	names := []string{`quote " backslash \ tab` + "\t", "esc \x1b[31m bell \a", "ünïcødé ✓", "bidi \u202e"}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(strings.Replace(okFlow, `name = "ok"`, "name = "+strconvQuoteTOML(n), 1))
	}
	f, err := flows.Load(false, model.Source{Name: "a.toml", Data: []byte(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := f.Run(sample)
	if err != nil {
		t.Fatal(err)
	}
	rec := flows.Record(outs)
	back, err := flows.Load(false, model.Source{Name: "rec.toml", Data: rec})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec)
	}
	for i, fl := range back.Flows {
		if fl.Name != names[i] || fl.Fields != f.Flows[i].Fields || fl.Expect != flows.ExpectAllow || fl.Rule != "securityRules/allow-https" || fl.NSG != "web-nic-nsg" {
			t.Errorf("flow %d read back as %+v", i, fl)
		}
	}
}

// strconvQuoteTOML writes s as a TOML basic string with \uXXXX escapes for control characters.
func strconvQuoteTOML(s string) string { return string(model.AppendTOMLString(nil, s)) }
