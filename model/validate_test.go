package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// base is appended to every validation case: a small valid environment the case can refer to
// (vnet "base" with subnets web and app, nsg "base-nsg" on base/web, asg "web" with one member,
// vm "base-vm"). Cases come first, so their line numbers start at 1.
const base = `

# ---- base ----
[[vnet]]
name = "base"
address_space = ["10.0.0.0/16"]

  [[vnet.subnet]]
  name = "web"
  prefix = "10.0.1.0/24"
  nsg = "base-nsg"

  [[vnet.subnet]]
  name = "app"
  prefix = "10.0.2.0/24"

[[nsg]]
name = "base-nsg"

[[asg]]
name = "web"

[[vm]]
name = "base-vm"

  [[vm.nic]]
  name = "base-vm-nic"
  private_ip = "10.0.1.4"
  subnet = "base/web"
  asgs = ["web"]
`

func loadCase(text string) (*Environment, error) {
	return Load(Source{Name: "env.toml", Data: []byte(text + base)})
}

func issueStrings(is []Issue) []string {
	out := make([]string, len(is))
	for i, x := range is {
		out[i] = x.String()
	}
	return out
}

// rule is a valid NSG rule body (without name and priority) for cases to extend.
const ruleBody = `direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source = "*"
destination = "*"
`

type errCase struct {
	name string
	toml string
	want []string // every error, exactly, in order
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, err := loadCase(c.toml)
			if err == nil {
				t.Fatalf("loaded without error (%d VMs); want:\n%s", len(env.VMs), strings.Join(c.want, "\n"))
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is %T, want *LoadError: %v", err, err)
			}
			got := issueStrings(le.Errors)
			if !slices.Equal(got, c.want) {
				t.Errorf("errors:\n got: %s\nwant: %s", fmtList(got), fmtList(c.want))
			}
		})
	}
}

func fmtList(l []string) string {
	var b strings.Builder
	for _, s := range l {
		fmt.Fprintf(&b, "\n  %q", s)
	}
	return b.String()
}

func TestSyntaxErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{"unclosed header", "[[nsg]\nname = \"x\"\n", []string{
			`env.toml:2: TOML syntax error at column 6: expected end of table array name delimiter ']', but got '\n' instead`,
		}},
		{"missing value", "[environment]\nname =\n", []string{
			"env.toml:2: TOML syntax error at column 7: expected value but found '\\n' instead",
		}},
		{"duplicate key", "[environment]\nname = \"a\"\nname = \"b\"\n", []string{
			"env.toml:3: TOML syntax error at column 12: Key 'environment.name' has already been defined.",
		}},
	})
}

func TestStructureErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{"unknown key with suggestion", `[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100
  destination_port = "443"
` + ruleBody, []string{
			`env.toml:6: nsg "n" rule "r": unknown key destination_port; did you mean destination_ports?`,
		}},
		{"unknown key without suggestion", `[[vnet]]
name = "v"
address_space = ["10.9.0.0/16"]
colour = "red"
`, []string{
			`env.toml:4: vnet "v": unknown key colour; valid keys are name, address_space, peerings, onprem_prefixes, subnet`,
		}},
		{"unknown top-level table", `[[vnets]]
name = "v"
`, []string{
			`env.toml:1: unknown key vnets; did you mean vnet?`,
		}},
		{"rule at top level", `[[rule]]
name = "r"
`, []string{
			`env.toml:1: rule: rules belong to an NSG: write [[nsg.rule]] after its [[nsg]]`,
		}},
		{"wrong type string for integer", `[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = "100"
` + ruleBody, []string{
			`env.toml:5: nsg "n" rule "r": priority: expected an integer, got a string ("100")`,
		}},
		{"wrong type float for integer", `[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100.0
` + ruleBody, []string{
			`env.toml:5: nsg "n" rule "r": priority: expected an integer, got a float (100); write 100`,
		}},
		{"string for array", `[[vnet]]
name = "v"
address_space = "10.9.0.0/16"
`, []string{
			`env.toml:3: vnet "v": address_space: expected an array of strings, got a string; write address_space = ["10.9.0.0/16"]`,
		}},
		{"wrong type boolean", `[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  primary = "yes"
  private_ip = "10.0.1.5"
  subnet = "base/web"
`, []string{
			`env.toml:5: vm "m" nic "m-nic": primary: expected true or false, got a string ("yes")`,
		}},
		{"wrong element type", `[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.0.1.5"
  subnet = "base/web"
  asgs = ["web", 3]
`, []string{
			`env.toml:7: vm "m" nic "m-nic": asgs[1]: expected a string, got an integer (3)`,
		}},
		{"single table instead of array of tables", `[admin_rule]
name = "n"
`, []string{
			`env.toml:1: admin_rule: expected an array of tables written [[admin_rule]], got a single table; write [[admin_rule]]`,
		}},
		{"missing required field", `[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "*"
`, []string{
			`env.toml:3: nsg "n" rule "r": missing required key direction (Inbound or Outbound)`,
		}},
		{"missing name", `[[asg]]
[[asg]]
name = "ok"
[[vnet]]
address_space = ["10.9.0.0/16"]
`, []string{
			`env.toml:1: asg #1: missing required key name (a non-empty string)`,
			`env.toml:4: vnet #1: missing required key name (a non-empty string)`,
		}},
		{"empty name", `[[asg]]
name = " "
`, []string{
			`env.toml:2: asg #1: name: must not be empty`,
		}},
		{"inline array of inline tables", `[[nsg]]
name = "n"
rule = [
  { name = "a", priority = 100, direction = "Inbound", access = "Allow", protocol = "Tcp", source = "*", destination = "*" },
  "c",
  { name = "b", priority = 100, direction = "Inbound", access = "Allow", protocol = "Tcp", source = "*", destination = "*", destination_ports = "99999" },
  { priority = 101, direction = "Inbound", access = "Allow", protocol = "Tcp", source = "*", destination = "*" },
]
`, []string{
			`env.toml:3: nsg "n": rule[1]: expected a table ({ name = ... }), got a string ("c")`,
			`env.toml:6: nsg "n" rule "b": destination_ports "99999": port out of range 0..65535`,
			`env.toml:6: nsg "n": rule "b" conflicts with rule "a" (env.toml:4): Rules cannot have the same Priority and Direction (priority 100, Inbound)`,
			`env.toml:7: nsg "n" rule #4: missing required key name (a non-empty string)`,
		}},
	})
}

func nsgWith(rules string) string {
	return "[[nsg]]\nname = \"n\"\n" + rules
}

func TestNameErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{"duplicate vnet", `[[vnet]]
name = "v"
address_space = ["10.8.0.0/16"]
[[vnet]]
name = "v"
address_space = ["10.9.0.0/16"]
`, []string{
			`env.toml:4: vnet "v": defined twice; first defined at env.toml:1`,
		}},
		{"duplicate differing in case", `[[nsg]]
name = "BASE-nsg"
`, []string{
			`env.toml:19: nsg "base-nsg": defined twice; first defined at env.toml:1 as "BASE-nsg" (names are case-insensitive in Azure)`,
		}},
		{"duplicate subnet", `[[vnet]]
name = "v"
address_space = ["10.9.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.1.0/24"
  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.2.0/24"
`, []string{
			`env.toml:7: vnet "v" subnet "s": defined twice in vnet "v"; first defined at env.toml:4`,
		}},
		{"duplicate rule", nsgWith(`  [[nsg.rule]]
  name = "r"
  priority = 100
` + ruleBody + `  [[nsg.rule]]
  name = "r"
  priority = 101
` + ruleBody), []string{
			`env.toml:11: nsg "n" rule "r": defined twice in nsg "n"; first defined at env.toml:3`,
		}},
		{"duplicate nic across vms", `[[vm]]
name = "m"
  [[vm.nic]]
  name = "base-vm-nic"
  private_ip = "10.0.1.5"
  subnet = "base/web"
`, []string{
			`env.toml:32: vm "base-vm" nic "base-vm-nic": defined twice; first defined at env.toml:3`,
		}},
		{"rule name with a space", nsgWith(`  [[nsg.rule]]
  name = "allow https"
  priority = 100
` + ruleBody), []string{
			`env.toml:4: nsg "n" rule "allow https": name "allow https": invalid rule name; use up to 80 characters: letters, digits, '_', '.' and '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'`,
		}},
		{"rule name ending with a dot", nsgWith(`  [[nsg.rule]]
  name = "allow."
  priority = 100
` + ruleBody), []string{
			`env.toml:4: nsg "n" rule "allow.": name "allow.": invalid rule name; use up to 80 characters: letters, digits, '_', '.' and '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'`,
		}},
		{"rule name of 81 characters", nsgWith(`  [[nsg.rule]]
  name = "` + strings.Repeat("a", 81) + `"
  priority = 100
` + ruleBody), []string{
			`env.toml:4: nsg "n" rule "` + strings.Repeat("a", 81) + `": name "` + strings.Repeat("a", 81) + `": invalid rule name; use up to 80 characters: letters, digits, '_', '.' and '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'`,
		}},
		{"control characters are escaped", "[[asg]]\nname = \"a\\u001b[31m\"\n[[asg]]\nname = \"a\\u001b[31m\"\n", []string{
			`env.toml:3: asg "a\x1b[31m": defined twice; first defined at env.toml:1`,
		}},
		{"slash in vnet name", `[[vnet]]
name = "a/b"
address_space = ["10.9.0.0/16"]
`, []string{
			`env.toml:2: vnet "a/b": name "a/b": a VNet name cannot contain '/' (NICs refer to subnets as VNET/SUBNET)`,
		}},
	})
}

func TestRuleErrors(t *testing.T) {
	rule := func(fields string) string {
		return nsgWith("  [[nsg.rule]]\n  name = \"r\"\n" + fields)
	}
	// The usual fields, minus those listed in drop.
	body := func(drop ...string) string {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(ruleBody), "\n") {
			if !slices.Contains(drop, strings.Fields(line)[0]) {
				b.WriteString("  " + line + "\n")
			}
		}
		return b.String()
	}
	runErrCases(t, []errCase{
		{"priority too low", rule("  priority = 99\n" + body()), []string{
			`env.toml:5: nsg "n" rule "r": priority 99: must be between 100 and 4096`,
		}},
		{"priority too high", rule("  priority = 4097\n" + body()), []string{
			`env.toml:5: nsg "n" rule "r": priority 4097: must be between 100 and 4096`,
		}},
		{"priority conflict", nsgWith(`  [[nsg.rule]]
  name = "a"
  priority = 100
` + ruleBody + `  [[nsg.rule]]
  name = "b"
  priority = 100
` + ruleBody), []string{
			`env.toml:13: nsg "n": rule "b" conflicts with rule "a" (env.toml:3): Rules cannot have the same Priority and Direction (priority 100, Inbound)`,
		}},
		{"bad direction", rule("  priority = 100\n  direction = \"In\"\n" + body("direction")), []string{
			`env.toml:6: nsg "n" rule "r": direction "In": must be Inbound or Outbound`,
		}},
		{"bad access", rule("  priority = 100\n  access = \"Permit\"\n" + body("access")), []string{
			`env.toml:6: nsg "n" rule "r": access "Permit": must be Allow or Deny`,
		}},
		{"AlwaysAllow on an NSG rule", rule("  priority = 100\n  access = \"AlwaysAllow\"\n" + body("access")), []string{
			`env.toml:6: nsg "n" rule "r": access "AlwaysAllow": AlwaysAllow exists only on admin rules; must be Allow or Deny`,
		}},
		{"bad protocol", rule("  priority = 100\n  protocol = \"Http\"\n" + body("protocol")), []string{
			`env.toml:6: nsg "n" rule "r": protocol "Http": must be Tcp, Udp, Icmp, Esp, Ah or *`,
		}},
		{"port out of range", rule("  priority = 100\n  destination_ports = \"70000\"\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": destination_ports "70000": port out of range 0..65535`,
		}},
		{"integer port out of range", rule("  priority = 100\n  destination_ports = [443, 70000]\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": destination_ports 70000: port out of range 0..65535`,
		}},
		{"reversed port range", rule("  priority = 100\n  source_ports = \"90-80\"\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": source_ports "90-80": range start 90 is above its end 80`,
		}},
		{"any as a port", rule("  priority = 100\n  source_ports = \"any\"\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": source_ports "any" is not a port: use * for every port`,
		}},
		{"comma-separated ports", rule("  priority = 100\n  destination_ports = \"80, 443\"\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": destination_ports "80, 443": not a port; use *, N or N-M with ports 0..65535; for several ports write an array, like destination_ports = ["80", "443"]`,
		}},
		{"empty port list", rule("  priority = 100\n  destination_ports = []\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": destination_ports: empty; leave destination_ports out or use "*" for every port`,
		}},
		{"port of the wrong type", rule("  priority = 100\n  destination_ports = true\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": destination_ports: expected a port ("*", "N", "N-M" or an integer), got a boolean (true)`,
		}},
		{"host bits set", rule("  priority = 100\n  source = \"10.1.2.3/16\"\n" + body("source")), []string{
			`env.toml:6: nsg "n" rule "r": source "10.1.2.3/16": host bits are set; the network address is 10.1.0.0/16`,
		}},
		{"any as an address", rule("  priority = 100\n  destination = \"Any\"\n" + body("destination")), []string{
			`env.toml:6: nsg "n" rule "r": destination "Any" is not an address: use * for every address`,
		}},
		{"not an address", rule("  priority = 100\n  destination = \"10.0.0\"\n" + body("destination")), []string{
			`env.toml:6: nsg "n" rule "r": destination "10.0.0": not an IPv4 address or CIDR (like 10.0.1.4 or 10.0.0.0/16)`,
		}},
		{"empty address", rule("  priority = 100\n  source = [\"10.0.0.0/8\", \" \"]\n" + body("source")), []string{
			`env.toml:6: nsg "n" rule "r": source: empty address; use *, an IPv4 address or CIDR, or a service tag`,
		}},
		{"IPv6 address", rule("  priority = 100\n  source = [\"2001:db8::/32\"]\n" + body("source")), []string{
			`env.toml:6: nsg "n" rule "r": source "2001:db8::/32": IPv6 is not supported yet`,
		}},
		{"unknown tag close to a known one", rule("  priority = 100\n  source = \"Internt\"\n" + body("source")), []string{
			`env.toml:6: nsg "n" rule "r": source "Internt": unknown service tag; did you mean "Internet"?`,
		}},
		{"unknown tag", rule("  priority = 100\n  source = \"AzureCloud\"\n" + body("source")), []string{
			`env.toml:6: nsg "n" rule "r": source "AzureCloud": unknown service tag; built-in tags are VirtualNetwork, Internet and AzureLoadBalancer, others must be declared in [service_tags]`,
		}},
		{"tag in a list", rule("  priority = 100\n  source = [\"10.0.0.0/8\", \"internet\"]\n" + body("source")), []string{
			`env.toml:6: nsg "n" rule "r": source: "Internet" must stand alone; a service tag or * cannot be combined with other addresses (Azure accepts tags and * only in the single-value field)`,
		}},
		{"star in a list", rule("  priority = 100\n  destination = [\"*\", \"10.0.0.0/8\"]\n" + body("destination")), []string{
			`env.toml:6: nsg "n" rule "r": destination: "*" must stand alone; a service tag or * cannot be combined with other addresses (Azure accepts tags and * only in the single-value field)`,
		}},
		{"source and source_asgs", rule("  priority = 100\n  source_asgs = [\"web\"]\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": source and source_asgs are exclusive: set exactly one (Azure: a rule specifies exactly one of address prefixes and application security groups per side)`,
		}},
		{"neither destination nor destination_asgs", rule("  priority = 100\n" + body("destination")), []string{
			`env.toml:3: nsg "n" rule "r": missing destination: set destination (*, IPv4 addresses or CIDRs, or a service tag) or destination_asgs (ASG names)`,
		}},
		{"empty source list", rule("  priority = 100\n  source = []\n" + body("source")), []string{
			`env.toml:3: nsg "n" rule "r": missing source: set source (*, IPv4 addresses or CIDRs, or a service tag) or source_asgs (ASG names)`,
		}},
		{"unknown ASG", rule("  priority = 100\n  destination_asgs = [\"wbe\"]\n" + body("destination")), []string{
			`env.toml:6: nsg "n" rule "r": destination_asgs: no asg named "wbe"; did you mean "web"?`,
		}},
		{"eleven ASGs", rule("  priority = 100\n  destination_asgs = [" + strings.Repeat(`"web", `, 11) + "]\n" + body("destination")), []string{
			`env.toml:6: nsg "n" rule "r": destination_asgs: 11 ASGs; Azure allows at most 10 per side of a rule`,
		}},
		{"description too long", rule("  priority = 100\n  description = \"" + strings.Repeat("d", 141) + "\"\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": description: 141 characters; Azure allows at most 140`,
		}},
		{"vnets on an NSG rule", rule("  priority = 100\n  vnets = [\"base\"]\n" + body()), []string{
			`env.toml:6: nsg "n" rule "r": vnets: only admin rules ([[admin_rule]]) have vnets; an NSG rule applies where its NSG is attached`,
		}},
		{"too many rules", nsgWith(manyRules(1001)), []string{
			`env.toml:3: nsg "n": 1001 rules; Azure allows at most 1000 custom rules per NSG`,
		}},
	})
}

func manyRules(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		dir := "Inbound"
		if i%2 == 1 {
			dir = "Outbound"
		}
		fmt.Fprintf(&b, "  [[nsg.rule]]\n  name = \"r%d\"\n  priority = %d\n  direction = %q\n  access = \"Allow\"\n  protocol = \"Tcp\"\n  source = \"*\"\n  destination = \"*\"\n", i, 100+i/2, dir)
	}
	return b.String()
}

func TestSuggestTransposition(t *testing.T) {
	if got := Suggest("wbe", []string{"web", "app"}); got != "web" {
		t.Errorf("Suggest(wbe) = %q, want web", got)
	}
	if got := Suggest("prioirty", keysRule); got != "priority" {
		t.Errorf("Suggest(prioirty) = %q, want priority", got)
	}
	if got := Suggest("xyz", []string{"web"}); got != "" {
		t.Errorf("Suggest(xyz) = %q, want none", got)
	}
}

func TestNetworkErrors(t *testing.T) {
	vnet := func(extra string) string {
		return "[[vnet]]\nname = \"v\"\naddress_space = [\"10.9.0.0/16\"]\n" + extra
	}
	nic := func(fields string) string {
		return "[[vm]]\nname = \"m\"\n  [[vm.nic]]\n  name = \"m-nic\"\n" + fields
	}
	runErrCases(t, []errCase{
		{"address space not a CIDR", `[[vnet]]
name = "v"
address_space = ["10.9.0.0/33", "10.8.0.0", "10.7.0.1/16", "fd00::/8"]
`, []string{
			`env.toml:3: vnet "v": address_space "10.9.0.0/33": not an IPv4 CIDR (like 10.0.0.0/16)`,
			`env.toml:3: vnet "v": address_space "10.8.0.0": not an IPv4 CIDR (like 10.0.0.0/16)`,
			`env.toml:3: vnet "v": address_space "10.7.0.1/16": host bits are set; the network address is 10.7.0.0/16`,
			`env.toml:3: vnet "v": address_space "fd00::/8": IPv6 is not supported yet`,
		}},
		{"address space missing", `[[vnet]]
name = "v"
`, []string{
			`env.toml:1: vnet "v": missing required key address_space (an array of IPv4 CIDRs)`,
		}},
		{"address space empty", `[[vnet]]
name = "v"
address_space = []
`, []string{
			`env.toml:3: vnet "v": address_space: needs at least one IPv4 CIDR (like 10.0.0.0/16)`,
		}},
		{"address spaces overlap", `[[vnet]]
name = "v"
address_space = ["10.9.0.0/16", "10.9.128.0/17"]
`, []string{
			`env.toml:3: vnet "v": address_space: 10.9.128.0/17 overlaps 10.9.0.0/16`,
		}},
		{"subnet outside the address space", vnet(`  [[vnet.subnet]]
  name = "s"
  prefix = "10.10.1.0/24"
`), []string{
			`env.toml:6: vnet "v" subnet "s": prefix 10.10.1.0/24 is outside the address space of vnet "v" (10.9.0.0/16)`,
		}},
		{"subnet prefix with host bits", vnet(`  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.1.1/24"
`), []string{
			`env.toml:6: vnet "v" subnet "s": prefix "10.9.1.1/24": host bits are set; the network address is 10.9.1.0/24`,
		}},
		{"subnets overlap", vnet(`  [[vnet.subnet]]
  name = "a"
  prefix = "10.9.0.0/22"
  [[vnet.subnet]]
  name = "b"
  prefix = "10.9.4.0/24"
  [[vnet.subnet]]
  name = "c"
  prefix = "10.9.2.0/24"
`), []string{
			`env.toml:12: vnet "v" subnet "c": prefix 10.9.2.0/24 overlaps subnet "a" (10.9.0.0/22, env.toml:4)`,
		}},
		{"routes and on-premises prefixes", vnet(`onprem_prefixes = ["192.169.0.0/15"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.1.0/24"
  routes = ["0.0.0.0"]
`), []string{
			`env.toml:4: vnet "v": onprem_prefixes "192.169.0.0/15": host bits are set; the network address is 192.168.0.0/15`,
			`env.toml:8: vnet "v" subnet "s": routes "0.0.0.0": not an IPv4 CIDR (like 10.0.0.0/16)`,
		}},
		{"peering to an unknown vnet", vnet(`peerings = ["bsae"]
`), []string{
			`env.toml:4: vnet "v": peerings: no vnet named "bsae"; did you mean "base"?`,
		}},
		{"peering with itself", vnet(`peerings = ["v"]
`), []string{
			`env.toml:4: vnet "v": peerings: vnet "v" cannot peer with itself`,
		}},
		{"subnet with an unknown nsg", vnet(`  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.1.0/24"
  nsg = "base-nsh"
`), []string{
			`env.toml:7: vnet "v" subnet "s": nsg: no nsg named "base-nsh"; did you mean "base-nsg"?`,
		}},
		{"nic subnet without vnet", nic(`  private_ip = "10.0.1.5"
  subnet = "web"
`), []string{
			`env.toml:6: vm "m" nic "m-nic": subnet "web": write VNET/SUBNET; did you mean "base/web"?`,
		}},
		{"nic subnet in an unknown vnet", nic(`  private_ip = "10.0.1.5"
  subnet = "bas/web"
`), []string{
			`env.toml:6: vm "m" nic "m-nic": subnet "bas/web": no vnet named "bas"; did you mean "base"?`,
		}},
		{"nic subnet unknown", nic(`  private_ip = "10.0.1.5"
  subnet = "base/wbe"
`), []string{
			`env.toml:6: vm "m" nic "m-nic": subnet "base/wbe": vnet "base" has no subnet named "wbe"; did you mean "web"?`,
		}},
		{"private IP outside its subnet", nic(`  private_ip = "10.0.2.5"
  subnet = "base/web"
`), []string{
			`env.toml:5: vm "m" nic "m-nic": private_ip 10.0.2.5 is outside subnet "base/web" (10.0.1.0/24)`,
		}},
		{"private IP invalid", nic(`  private_ip = "10.0.1.300"
  subnet = "base/web"
`), []string{
			`env.toml:5: vm "m" nic "m-nic": private_ip "10.0.1.300": not an IPv4 address (like 10.0.1.4)`,
		}},
		{"private IP IPv6", nic(`  private_ip = "fd00::4"
  subnet = "base/web"
`), []string{
			`env.toml:5: vm "m" nic "m-nic": private_ip "fd00::4": IPv6 is not supported yet`,
		}},
		{"private IP used twice in a vnet", nic(`  private_ip = "10.0.1.4"
  subnet = "base/web"
`), []string{
			`env.toml:34: vm "base-vm" nic "base-vm-nic": private_ip 10.0.1.4 is already used in vnet "base" by vm "m" nic "m-nic" ip_config "ipconfig1" (env.toml:5)`,
		}},
		{"nic with an unknown nsg", nic(`  nsg = "nope"
  private_ip = "10.0.1.5"
  subnet = "base/web"
`), []string{
			`env.toml:5: vm "m" nic "m-nic": nsg: no nsg named "nope"; defined: "base-nsg"`,
		}},
		{"nic with an unknown asg", nic(`  private_ip = "10.0.1.5"
  subnet = "base/web"
  asgs = ["wbe"]
`), []string{
			`env.toml:7: vm "m" nic "m-nic": asgs: no asg named "wbe"; did you mean "web"?`,
		}},
		{"asg members in two vnets", vnet(`  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.1.0/24"
`) + nic(`  private_ip = "10.9.1.4"
  subnet = "v/s"
  asgs = ["web"]
`), []string{
			`env.toml:43: vm "base-vm" nic "base-vm-nic": asgs: asg "web" already has members in vnet "v" (vm "m" nic "m-nic" ip_config "ipconfig1", env.toml:13), and this IP configuration is in vnet "base"; all members of an ASG must be in one VNet`,
		}},
		{"shorthand and ip_config", nic(`  private_ip = "10.0.1.5"
  subnet = "base/web"
    [[vm.nic.ip_config]]
    name = "ipconfig1"
    private_ip = "10.0.1.6"
    subnet = "base/web"
`), []string{
			`env.toml:5: vm "m" nic "m-nic": private_ip, subnet and [[vm.nic.ip_config]] are exclusive: use the shorthand (private_ip, subnet, asgs) for one IP configuration, or ip_config tables, not both`,
		}},
		{"nic without ip configuration", nic(`  ip_forwarding = true
`), []string{
			`env.toml:3: vm "m" nic "m-nic": needs an IP configuration: set private_ip and subnet, or add [[vm.nic.ip_config]]`,
		}},
		{"shorthand without subnet", nic(`  private_ip = "10.0.1.5"
`), []string{
			`env.toml:3: vm "m" nic "m-nic": missing required key subnet (VNET/SUBNET)`,
		}},
		{"ip_config names unique per nic", nic(`    [[vm.nic.ip_config]]
    name = "c"
    private_ip = "10.0.1.5"
    subnet = "base/web"
    [[vm.nic.ip_config]]
    name = "C"
    private_ip = "10.0.1.6"
    subnet = "base/web"
`), []string{
			`env.toml:10: vm "m" nic "m-nic" ip_config "C": defined twice in nic "m-nic"; first defined at env.toml:5`,
		}},
		{"two primary ip_configs", nic(`    [[vm.nic.ip_config]]
    name = "a"
    private_ip = "10.0.1.5"
    subnet = "base/web"
    primary = true
    [[vm.nic.ip_config]]
    name = "b"
    private_ip = "10.0.1.6"
    subnet = "base/web"
    primary = true
`), []string{
			`env.toml:14: vm "m" nic "m-nic" ip_config "b": primary: ip_config "a" is already the primary IP configuration of nic "m-nic" (env.toml:9); at most one is primary`,
		}},
		{"ip_configs in two vnets", vnet(`  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.1.0/24"
`) + nic(`    [[vm.nic.ip_config]]
    name = "a"
    private_ip = "10.0.1.5"
    subnet = "base/web"
    [[vm.nic.ip_config]]
    name = "b"
    private_ip = "10.9.1.5"
    subnet = "v/s"
`), []string{
			`env.toml:18: vm "m" nic "m-nic" ip_config "b": subnet "v/s" is in vnet "v", but ip_config "a" of this NIC is in vnet "base"; all IP configurations of a NIC must be in one VNet`,
		}},
		{"two primary nics", `[[vm]]
name = "m"
  [[vm.nic]]
  name = "n1"
  primary = true
  private_ip = "10.0.1.5"
  subnet = "base/web"
  [[vm.nic]]
  name = "n2"
  primary = true
  private_ip = "10.0.1.6"
  subnet = "base/web"
`, []string{
			`env.toml:10: vm "m" nic "n2": primary: nic "n1" is already the primary NIC of vm "m" (env.toml:5); at most one NIC is primary`,
		}},
		{"vm without nic", `[[vm]]
name = "m"
`, []string{
			`env.toml:1: vm "m": needs at least one NIC: add [[vm.nic]] after it`,
		}},
		{"bad power state", `[[vm]]
name = "m"
power_state = "hibernated"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.0.1.5"
  subnet = "base/web"
`, []string{
			`env.toml:3: vm "m": power_state "hibernated": must be one of running, stopped, starting, stopping, deallocating, deallocated`,
		}},
	})
}

func TestAdminRuleErrors(t *testing.T) {
	admin := func(name, fields string) string {
		return "[[admin_rule]]\nname = \"" + name + "\"\n" + fields
	}
	ok := "direction = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = \"Internet\"\ndestination = \"*\"\n"
	runErrCases(t, []errCase{
		{"priority zero", admin("a", "priority = 0\n"+ok), []string{
			`env.toml:3: admin_rule "a": priority 0: must be between 1 and 4096`,
		}},
		{"priority too high", admin("a", "priority = 4097\n"+ok), []string{
			`env.toml:3: admin_rule "a": priority 4097: must be between 1 and 4096`,
		}},
		{"bad access", admin("a", "priority = 1\naccess = \"Block\"\n"+strings.Replace(ok, "access = \"Deny\"\n", "", 1)), []string{
			`env.toml:4: admin_rule "a": access "Block": must be Allow, AlwaysAllow or Deny`,
		}},
		{"ASGs", admin("a", "priority = 1\nsource_asgs = [\"web\"]\n"+strings.Replace(ok, "source = \"Internet\"\n", "", 1)), []string{
			`env.toml:1: admin_rule "a": missing required key source (*, IPv4 addresses or CIDRs, or a service tag)`,
			`env.toml:4: admin_rule "a": source_asgs: security admin rules cannot reference application security groups (they take IP prefixes and service tags only)`,
		}},
		{"unknown vnet", admin("a", "priority = 1\nvnets = [\"bse\"]\n"+ok), []string{
			`env.toml:4: admin_rule "a": vnets: no vnet named "bse"; did you mean "base"?`,
		}},
		{"empty vnets", admin("a", "priority = 1\nvnets = []\n"+ok), []string{
			`env.toml:4: admin_rule "a": vnets: empty; leave vnets out to apply the rule to every VNet`,
		}},
		{"invalid name", admin("a b", "priority = 1\n"+ok), []string{
			`env.toml:2: admin_rule "a b": name "a b": invalid rule name; use up to 80 characters: letters, digits, '_', '.' and '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'`,
		}},
		{"duplicate name", admin("a", "priority = 1\n"+ok) + admin("A", "priority = 2\n"+ok), []string{
			`env.toml:9: admin_rule "A": defined twice; first defined at env.toml:1 as "a" (names are case-insensitive in Azure)`,
		}},
		{"priority conflict on a shared vnet", admin("a", "priority = 5\nvnets = [\"base\"]\n"+ok) + admin("b", "priority = 5\n"+ok), []string{
			`env.toml:12: admin_rule "b": conflicts with admin_rule "a" (env.toml:1), which also applies to vnet "base": Rules cannot have the same Priority and Direction (priority 5, Inbound)`,
		}},
	})
}

func TestServiceTagAndEnvironmentErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{"builtin tag redefined", `[service_tags]
internet = ["1.2.3.0/24"]
`, []string{
			`env.toml:2: service_tags: service tag "internet" is built in (Internet); it cannot be redefined`,
		}},
		{"invalid tag name", `[service_tags]
"1cloud" = ["1.2.3.0/24"]
"any" = ["1.2.3.0/24"]
`, []string{
			`env.toml:2: service_tags: service tag "1cloud": invalid name; a tag name starts with a letter and has only letters, digits, '.', '-' and '_' (like Storage.WestEurope)`,
			`env.toml:3: service_tags: service tag "any": invalid name; a tag name starts with a letter and has only letters, digits, '.', '-' and '_' (like Storage.WestEurope)`,
		}},
		{"tag defined twice in one file", `[service_tags]
"Storage" = ["1.2.3.0/24"]
"storage" = ["1.2.4.0/24"]
`, []string{
			`env.toml:3: service_tags: service tag "storage" is defined twice; first defined at env.toml:2 as "Storage" (tags are case-insensitive)`,
		}},
		{"tag with a bad prefix", `[service_tags]
"Storage" = ["1.2.3.4/24", 5]
`, []string{
			`env.toml:2: service_tags: Storage[1]: expected a string, got an integer (5)`,
		}},
		{"tag with a host-bits prefix", `[service_tags]
"Storage" = ["1.2.3.4/24"]
`, []string{
			`env.toml:2: service_tags: service tag "Storage": "1.2.3.4/24": host bits are set; the network address is 1.2.3.0/24`,
		}},
		{"environment is a table", `environment = "prod"
`, []string{
			`env.toml:1: environment: expected a table ([environment]), got a string ("prod")`,
		}},
		{"environment unknown key", `[environment]
nmae = "prod"
`, []string{
			`env.toml:2: environment: unknown key nmae; did you mean name?`,
		}},
	})
}

type warnCase struct {
	name string
	toml string
	want []string
}

func TestWarnings(t *testing.T) {
	cases := []warnCase{
		{"rule references an empty ASG", `[[asg]]
name = "empty"
[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source_asgs = ["empty"]
  destination = "*"
[[vnet]]
name = "v"
address_space = ["10.9.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.9.0.0/24"
  nsg = "n"
`, []string{
			`env.toml:11: nsg "n" rule "r": source_asgs: asg "empty" has no members, so this side matches no address`,
		}},
		{"ICMP rule with ports", `[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "ping"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Icmp"
  source = "*"
  destination = "*"
  destination_ports = ["8", "0"]
  source_ports = "*"
`, []string{
			`env.toml:1: nsg "n": attached to no subnet and no NIC, so its rules apply nowhere`,
			`env.toml:11: nsg "n" rule "ping": destination_ports 8, 0: protocol Icmp has no ports, so Azure ignores them; use * or leave destination_ports out`,
		}},
		{"reserved address", `[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.0.1.1"
  subnet = "base/web"
`, []string{
			`env.toml:5: vm "m" nic "m-nic": private_ip 10.0.1.1: Azure reserves the first four addresses and the last address of subnet 10.0.1.0/24, so it never assigns this one`,
		}},
		{"empty service tag", `[service_tags]
"Empty" = []
`, []string{
			`env.toml:2: service_tags: service tag "Empty" has no prefixes; rules that use it match no address`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, err := loadCase(c.toml)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := issueStrings(env.Warnings); !slices.Equal(got, c.want) {
				t.Errorf("warnings:\n got: %s\nwant: %s", fmtList(got), fmtList(c.want))
			}
		})
	}
}

func TestAdminPriorityConflicts(t *testing.T) {
	admin := func(name string, prio int, vnets string) string {
		s := fmt.Sprintf("[[admin_rule]]\nname = %q\npriority = %d\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = \"*\"\ndestination = \"*\"\n", name, prio)
		if vnets != "" {
			s += "vnets = " + vnets + "\n"
		}
		return s
	}
	two := `[[vnet]]
name = "v2"
address_space = ["10.9.0.0/16"]
`
	// Disjoint VNets may share a priority; overlapping ones may not.
	if _, err := loadCase(two + admin("a", 5, `["base"]`) + admin("b", 5, `["v2"]`)); err != nil {
		t.Errorf("disjoint VNets: %v", err)
	}
	_, err := loadCase(two + admin("a", 5, `["v2"]`) + admin("b", 5, ""))
	if err == nil || !strings.Contains(err.Error(), `env.toml:15: admin_rule "b": conflicts with admin_rule "a" (env.toml:4), which also applies to vnet "v2": Rules cannot have the same Priority and Direction (priority 5, Inbound)`) {
		t.Errorf("every VNet vs one: %v", err)
	}
	_, err = loadCase(two + admin("a", 5, "") + admin("b", 5, `["v2", "base"]`))
	if err == nil || !strings.Contains(err.Error(), `admin_rule "b": conflicts with admin_rule "a" (env.toml:4), which also applies to vnet "v2"`) {
		t.Errorf("one vs every VNet: %v", err)
	}
	_, err = loadCase(admin("a", 5, "") + admin("b", 5, ""))
	if err == nil || !strings.Contains(err.Error(), `admin_rule "b": conflicts with admin_rule "a" (env.toml:1), which also applies to every VNet`) {
		t.Errorf("both everywhere: %v", err)
	}
}

// TestMessagesArePrintable: nothing from a fixture reaches a message raw.
func TestMessagesArePrintable(t *testing.T) {
	_, err := Load(Source{Name: "e\x1b[1mvil.toml", Data: []byte("[service_tags]\n\"T\\u001b[2J\" = [5]\n[[asg]]\nname = \"a\\u0007\"\n[[asg]]\nname = \"a\\u0007\"\n")})
	if err == nil {
		t.Fatal("no error")
	}
	for _, r := range err.Error() {
		if r < 0x20 && r != '\n' || r == 0x7f {
			t.Fatalf("raw control character %q in %q", r, err.Error())
		}
	}
}
