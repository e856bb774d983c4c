package model

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// spoke is a second VNet (10.1.0.0/16, subnet spoke/s) for cases that need two VNets; it is not
// peered with base.
const spoke = `[[vnet]]
name = "spoke"
address_space = ["10.1.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.1.1.0/24"
`

// TestAzureRules: the rules Azure enforces between resources, one case each, with the place and
// what would be valid.
func TestAzureRules(t *testing.T) {
	runErrCases(t, []errCase{
		{"a rule with ASGs on both sides needs them in one VNet", spoke + `[[asg]]
name = "far"
[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.1.1.4"
  subnet = "spoke/s"
  asgs = ["far"]
[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source_asgs = ["far"]
  destination_asgs = ["web"]
`, []string{
			`env.toml:25: nsg "n" rule "r": destination_asgs: asg "web" has its members in vnet "base", but asg "far" (source_asgs) has its members in vnet "spoke"; a rule with ASGs on both sides needs all their members in one VNet`,
		}},
		{"all NICs of a VM are in one VNet", spoke + `[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-a"
  private_ip = "10.0.2.4"
  subnet = "base/app"
  [[vm.nic]]
  name = "m-b"
  private_ip = "10.1.1.4"
  subnet = "spoke/s"
`, []string{
			`env.toml:16: vm "m" nic "m-b": subnet "spoke/s" is in vnet "spoke", but nic "m-a" of this VM is in vnet "base" (env.toml:12); all NICs of a VM must be in one VNet`,
		}},
		{"peered VNets' address spaces do not overlap", `[[vnet]]
name = "twin"
address_space = ["172.16.0.0/16", "10.0.128.0/17"]
peerings = ["base"]
`, []string{
			`env.toml:4: vnet "twin": peerings: vnet "twin" (10.0.128.0/17) overlaps vnet "base" (10.0.0.0/16); Azure peers only VNets whose address spaces do not overlap`,
		}},
		{"at most 4,000 addresses on a side", nsgWith(`  [[nsg.rule]]
  name = "r"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = [` + addresses(4001) + `]
  destination = "*"
`), []string{
			`env.toml:9: nsg "n" rule "r": source: 4,001 addresses; Azure allows at most 4,000 IP addresses and ranges per side of a rule (split the rule, or use wider CIDRs)`,
		}},
		{"at most 20 ASGs per IP configuration", asgs(21) + `[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.0.2.4"
  subnet = "base/app"
  asgs = [` + asgNames(21) + `]
`, []string{
			`env.toml:49: vm "m" nic "m-nic": asgs: 21 ASGs; Azure allows at most 20 application security groups per IP configuration`,
		}},
		{"at most 100 ASGs in the rules of one NSG", asgs(101) + nsgWith(asgRules(101)), []string{
			`env.toml:203: nsg "n": its rules use 101 ASGs; Azure allows at most 100 application security groups in all the rules of one NSG (split the rules over two NSGs)`,
		}},
		{"at most 4,000 IP configurations per ASG", members(4001), []string{
			`env.toml:28015: vm "m4000" nic "n4000": asgs: asg "many" already has 4,000 members; Azure allows at most 4,000 IP configurations per ASG`,
		}},
	})
}

// TestAzureRulesAllow: what the rules above do not forbid loads.
func TestAzureRulesAllow(t *testing.T) {
	for name, text := range map[string]string{
		"an ASG on one side may be in another VNet than the NSG": spoke + `[[asg]]
name = "far"
[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.1.1.4"
  subnet = "spoke/s"
  asgs = ["far"]
[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source_asgs = ["far"]
  destination = "*"
[[vnet]]
name = "v3"
address_space = ["10.3.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.3.0.0/24"
  nsg = "n"
`,
		"peered VNets side by side": `[[vnet]]
name = "next"
address_space = ["10.1.0.0/16"]
peerings = ["base"]
`,
		"4,000 addresses and 20 ASGs": asgs(20) + nsgWith(`  [[nsg.rule]]
  name = "r"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = [`+addresses(4000)+`]
  destination = "*"
`) + `[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.0.2.4"
  subnet = "base/app"
  asgs = [` + asgNames(20) + `]
`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadCase(text); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func addresses(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf(`"203.%d.%d.0/24"`, i/256, i%256)
	}
	return strings.Join(s, ", ")
}

func asgNames(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf(`"g%d"`, i)
	}
	return strings.Join(s, ", ")
}

// asgs declares ASGs g0..g(n-1), two lines each.
func asgs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[[asg]]\nname = \"g%d\"\n", i)
	}
	return b.String()
}

// asgRules writes one rule per ASG g0..g(n-1), each with it as destination.
func asgRules(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  [[nsg.rule]]\n  name = \"r%d\"\n  priority = %d\n  direction = \"Inbound\"\n  access = \"Allow\"\n  protocol = \"Tcp\"\n  source = \"*\"\n  destination_asgs = [\"g%d\"]\n", i, 100+i, i)
	}
	return b.String()
}

// members declares VNet big (10.8.0.0/16) and ASG many, then n VMs whose NICs all join many.
func members(n int) string {
	var b strings.Builder
	b.WriteString("[[vnet]]\nname = \"big\"\naddress_space = [\"10.8.0.0/16\"]\n[[vnet.subnet]]\nname = \"all\"\nprefix = \"10.8.0.0/16\"\n[[asg]]\nname = \"many\"\n")
	for i := range n {
		fmt.Fprintf(&b, "[[vm]]\nname = \"m%d\"\n[[vm.nic]]\nname = \"n%d\"\nprivate_ip = \"10.8.%d.%d\"\nsubnet = \"big/all\"\nasgs = [\"many\"]\n", i, i, i/250, 4+i%250)
	}
	return b.String()
}

// TestValidRuleNameIsAzurePattern: the written-out rule name check accepts exactly what Azure's
// pattern ^\w(?:[\w.-]{0,78}\w)?$ accepts, at every length around the limits and on random
// strings over the characters that matter.
func TestValidRuleNameIsAzurePattern(t *testing.T) {
	re := regexp.MustCompile(`^\w(?:[\w.-]{0,78}\w)?$`)
	alphabet := []string{"a", "Z", "0", "_", ".", "-", " ", "é", "/", "\x00"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		n := i % 84
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		if i%3 == 0 { // mostly valid characters, to reach the length limits
			b.Reset()
			for range n {
				b.WriteString(alphabet[rng.IntN(5)])
			}
		}
		s := b.String()
		if got, want := ValidRuleName(s), re.MatchString(s); got != want {
			t.Fatalf("ValidRuleName(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}
