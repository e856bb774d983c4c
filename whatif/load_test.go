package whatif_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/internal/randestate"
	"ipflow/model"
	"ipflow/whatif"
)

func sample(t testing.TB) *model.Environment {
	t.Helper()
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

const ntp = `[[change]]
op = "add"
nsg = "web-subnet-nsg"
  [change.rule]
  name = "allow-ntp-from-contoso"
  priority = 3990
  direction = "Inbound"
  access = "Allow"
  protocol = "Udp"
  source = "13.107.21.200"
  source_ports = "*"
  destination = "10.0.1.4"
  destination_ports = "123"
`

func load(t *testing.T, env *model.Environment, text string) (*whatif.Set, error) {
	t.Helper()
	return whatif.Load(env, model.Source{Name: "change.toml", Data: []byte(text)})
}

func TestLoadAppliesWithoutTouchingTheEstate(t *testing.T) {
	env := sample(t)
	before := engine.Compile(env)
	set, err := load(t, env, ntp+`
[[change]]
op = "remove"
nsg = "web-nic-nsg"
name = "allow-http"

[[change]]
op = "replace"
nsg = "web-subnet-nsg"
  [change.rule]
  name = "deny-rdp"
  priority = 4001
  direction = "Inbound"
  access = "Deny"
  protocol = "*"
  source = "*"
  destination = "*"
  destination_ports = ["3389", "5985-5986"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Changes) != 3 || set.Changes[0].Pos.String() != "change.toml:1" || set.Changes[2].Op != whatif.Replace {
		t.Fatalf("changes: %+v", set.Changes)
	}
	// The loaded estate is untouched: the same NSG objects, the same rules.
	for _, g := range env.NSGs {
		for _, r := range g.Rules {
			if r.Name == "allow-ntp-from-contoso" || r.Priority == 4001 {
				t.Fatalf("the loaded estate changed: %s has %s", g.Name, r.Name)
			}
		}
	}
	if d := analysis.Diff(before, engine.Compile(env)); d.Changed() {
		t.Fatal("the loaded estate's verdicts changed")
	}
	after := engine.Compile(set.After)
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.UDP, LocalIP: addr("10.0.1.4"), LocalPort: 123, RemoteIP: addr("13.107.21.200"), RemotePort: 60000}
	v, _ := after.Decide(flow)
	// The subnet NSG now allows; web-nic-nsg still denies by default.
	if v.Access != model.Deny || v.Layer.NSG.Name != "web-nic-nsg" {
		t.Fatalf("what-if verdict %s by %s", v.Access, v.RuleName())
	}
	flow.Protocol, flow.LocalPort = model.TCP, 80
	if v, _ := after.Decide(flow); v.Access != model.Deny {
		t.Fatalf("allow-http was removed, yet %s by %s", v.Access, v.RuleName())
	}
	if v, _ := before.Decide(flow); v.Access != model.Allow {
		t.Fatalf("before: %s by %s", v.Access, v.RuleName())
	}
	// The what-if's references lead into the what-if: subnet and NIC NSGs, ASG members.
	for _, vm := range set.After.VMs {
		for _, n := range vm.NICs {
			for _, c := range n.IPConfigs {
				if c.NIC != n || n.VM != vm {
					t.Fatal("back references of the copy point elsewhere")
				}
				if c.Subnet != nil && c.Subnet.NSG != nil && !contains(set.After.NSGs, c.Subnet.NSG) {
					t.Fatal("a subnet's NSG is not the what-if's")
				}
			}
		}
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestFormatRoundTrips(t *testing.T) {
	env := sample(t)
	text := ntp + `
[[change]]
op = "replace"
nsg = "app-subnet-nsg"
  [change.rule]
  name = "allow-web-to-app"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source_asgs = ["web"]
  destination_asgs = ["app"]
  destination_ports = ["8080", "8443"]
  description = "web \"tier\" to app"

[[change]]
op = "add"
admin_rule = "allow-ntp"
  [change.rule]
  name = "allow-ntp"
  priority = 5
  direction = "Inbound"
  access = "AlwaysAllow"
  protocol = "Udp"
  source = ["13.107.21.200", "Internet"]
  destination = "*"
  destination_ports = "123"
  vnets = ["hub"]

[[change]]
op = "remove"
admin_rule = "deny-ssh-from-internet"
`
	set, err := load(t, env, text)
	if err != nil {
		t.Fatal(err)
	}
	out := whatif.Format(set.Changes)
	again, err := load(t, env, out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := whatif.Format(again.Changes); got != out {
		t.Fatalf("not stable:\n%s\n---\n%s", out, got)
	}
	if d := analysis.Diff(engine.Compile(set.After), engine.Compile(again.After)); d.Changed() {
		t.Fatal("the formatted change set makes another estate")
	}
}

// Every change that does not apply is an error at its line, saying what is wrong and what
// would be valid.
func TestLoadErrors(t *testing.T) {
	env := sample(t)
	cases := []struct{ name, text, want string }{
		{"unknown nsg", `[[change]]
op = "add"
nsg = "web-subnet-nsgg"
  [change.rule]
  name = "x"
  priority = 300
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, `change.toml:3: change #1: nsg: no nsg named "web-subnet-nsgg"; did you mean "web-subnet-nsg"?`},
		{"add of an existing name", `[[change]]
op = "add"
nsg = "web-nic-nsg"
  [change.rule]
  name = "allow-https"
  priority = 300
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, `change.toml:5: change #1 rule "allow-https": rule "allow-https" already exists in nsg "web-nic-nsg" (embedded/sample.toml:132); use op = "replace" to change it`},
		{"priority clash", `[[change]]
op = "add"
nsg = "web-nic-nsg"
  [change.rule]
  name = "new"
  priority = 200
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, `change.toml:6: change #1 rule "new": priority 200 clashes with rule "allow-ssh-from-mgmt" (embedded/sample.toml:153) in nsg "web-nic-nsg": Rules cannot have the same Priority and Direction (Inbound)`},
		{"clash with an earlier change", ntp + `
[[change]]
op = "add"
nsg = "web-subnet-nsg"
  [change.rule]
  name = "other"
  priority = 3990
  direction = "Inbound"
  access = "Deny"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, `change.toml:20: change #2 rule "other": priority 3990 clashes with rule "allow-ntp-from-contoso" (change.toml:4)`},
		{"remove of a missing rule", `[[change]]
op = "remove"
nsg = "web-nic-nsg"
name = "allow-htps"
`, `change.toml:4: change #1: nsg "web-nic-nsg" has no rule named "allow-htps"; did you mean "allow-https"?`},
		{"replace of a missing rule", `[[change]]
op = "replace"
nsg = "web-nic-nsg"
  [change.rule]
  name = "nope"
  priority = 300
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, `change.toml:5: change #1 rule "nope": nsg "web-nic-nsg" has no rule named "nope"`},
		{"unknown op", `[[change]]
op = "ad"
nsg = "web-nic-nsg"
`, `change.toml:2: change #1: op "ad": must be add, replace or remove; did you mean "add"?`},
		{"unknown key", `[[change]]
op = "remove"
nsg = "web-nic-nsg"
name = "allow-http"
nsgs = "x"
`, `change.toml:5: change #1: unknown key nsgs; did you mean nsg?`},
		{"a rule's own checks", `[[change]]
op = "add"
nsg = "web-nic-nsg"
  [change.rule]
  name = "x"
  priority = 300
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcpp"
  source = "Internett"
  destination = "*"
`, `change.toml:10: change #1 rule "x": source "Internett": unknown service tag; did you mean "Internet"?`},
		{"unknown asg", `[[change]]
op = "add"
nsg = "web-nic-nsg"
  [change.rule]
  name = "x"
  priority = 300
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source_asgs = ["wbe"]
  destination = "*"
`, `change.toml:10: change #1 rule "x": source_asgs: no asg named "wbe"; did you mean "web"?`},
		{"admin priority clash", `[[change]]
op = "add"
admin_rule = "x"
  [change.rule]
  name = "x"
  priority = 10
  direction = "Inbound"
  access = "Deny"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, `change.toml:6: change #1 rule "x": priority 10 clashes with admin rule "deny-ssh-from-internet"`},
		{"remove of a missing admin rule", `[[change]]
op = "remove"
admin_rule = "deny-ssh-from-internett"
`, `change.toml:3: change #1: no admin rule named "deny-ssh-from-internett"; did you mean "deny-ssh-from-internet"?`},
		{"no target", `[[change]]
op = "remove"
name = "x"
`, `change.toml:2: change #1: missing nsg (the NSG whose rule changes) or admin_rule`},
		{"add without a rule", `[[change]]
op = "add"
nsg = "web-nic-nsg"
`, `change.toml:2: change #1: add needs the rule: write [change.rule]`},
		{"syntax", `[[change]]
op = "add
`, `change.toml:2: TOML syntax error`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, env, c.text)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
		})
	}
}

// A what-if with no changes is the same estate: every flow of every NIC of random estates has
// the same verdict and deciding rule.
func TestRebuildIsFaithfulOnRandomEstates(t *testing.T) {
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 7))
		env, err := model.Load(model.Source{Name: fmt.Sprintf("random-%d.toml", seed), Data: []byte(randestate.Estate(rng))})
		if err != nil {
			t.Fatal(err)
		}
		after, err := whatif.Apply(env, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := analysis.Diff(engine.Compile(env), engine.Compile(after)); d.Changed() || d.Unchanged == 0 {
			t.Fatalf("seed %d: a copy differs: %d changes, %d unchanged", seed, len(d.Changes), d.Unchanged)
		}
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// The change-set example of docs/fixture-format.md applies to the sample.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/fixture-format.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "## Change sets (what-if files)")
	_, block, ok2 := strings.Cut(sec, "```toml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no change-set example in docs/fixture-format.md")
	}
	set, err := load(t, sample(t), block)
	if err != nil || len(set.Changes) != 3 {
		t.Fatalf("%v", err)
	}
}
