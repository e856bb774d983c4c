package importer_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"ipflow/importer"
	"ipflow/model"
)

// Small builders for CLI-shaped JSON.
const sub = "/subscriptions/s/resourceGroups/"

type obj = map[string]any

func id(rg, typ, name string) string {
	return sub + rg + "/providers/" + typ + "/" + name
}

func nsgID(rg, name string) string { return id(rg, "Microsoft.Network/networkSecurityGroups", name) }
func vnetID(rg, name string) string {
	return id(rg, "Microsoft.Network/virtualNetworks", name)
}
func subnetID(rg, vnet, name string) string { return vnetID(rg, vnet) + "/subnets/" + name }
func nicID(rg, name string) string          { return id(rg, "Microsoft.Network/networkInterfaces", name) }
func vmID(rg, name string) string           { return id(rg, "Microsoft.Compute/virtualMachines", name) }
func asgID(rg, name string) string {
	return id(rg, "Microsoft.Network/applicationSecurityGroups", name)
}

func vnet(rg, name, space string, subnets ...obj) obj {
	if subnets == nil {
		subnets = []obj{}
	}
	return obj{"id": vnetID(rg, name), "name": name, "resourceGroup": rg, "type": "Microsoft.Network/virtualNetworks",
		"addressSpace": obj{"addressPrefixes": []string{space}}, "subnets": subnets, "virtualNetworkPeerings": []obj{}}
}

func subnet(rg, vnet, name, prefix, nsg string) obj {
	s := obj{"id": subnetID(rg, vnet, name), "name": name, "addressPrefix": prefix, "resourceGroup": rg}
	if nsg != "" {
		s["networkSecurityGroup"] = obj{"id": nsg}
	}
	return s
}

func nsg(rg, name string, rules ...obj) obj {
	if rules == nil {
		rules = []obj{}
	}
	return obj{"id": nsgID(rg, name), "name": name, "resourceGroup": rg, "type": "Microsoft.Network/networkSecurityGroups",
		"securityRules": rules, "defaultSecurityRules": []obj{}}
}

// rule is an inbound Tcp allow rule from * to * port 22, changed by kv.
func rule(name string, prio any, kv ...any) obj {
	r := obj{"name": name, "priority": prio, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
		"sourceAddressPrefix": "*", "sourceAddressPrefixes": []string{}, "sourcePortRange": "*", "sourcePortRanges": []string{},
		"destinationAddressPrefix": "*", "destinationAddressPrefixes": []string{}, "destinationPortRange": "22",
		"destinationPortRanges": []string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(r, kv[i].(string))
		} else {
			r[kv[i].(string)] = kv[i+1]
		}
	}
	return r
}

type ipc struct {
	name, ip, subnet string
	asgs             []string
}

func nic(rg, name, vm string, cfgs ...ipc) obj {
	var cs []obj
	for i, c := range cfgs {
		o := obj{"name": c.name, "privateIpAddress": c.ip, "privateIpAddressVersion": "IPv4", "primary": i == 0,
			"subnet": obj{"id": c.subnet}}
		if strings.Contains(c.ip, ":") {
			o["privateIpAddressVersion"] = "IPv6"
		}
		if len(c.asgs) > 0 {
			var as []obj
			for _, a := range c.asgs {
				as = append(as, obj{"id": a})
			}
			o["applicationSecurityGroups"] = as
		}
		cs = append(cs, o)
	}
	n := obj{"id": nicID(rg, name), "name": name, "resourceGroup": rg, "type": "Microsoft.Network/networkInterfaces",
		"ipConfigurations": cs, "enableIpForwarding": false}
	if vm != "" {
		n["virtualMachine"] = obj{"id": vm}
	}
	return n
}

func vm(rg, name, power string, nics ...string) obj {
	var refs []obj
	for _, n := range nics {
		refs = append(refs, obj{"id": n})
	}
	v := obj{"id": vmID(rg, name), "name": name, "resourceGroup": rg, "type": "Microsoft.Compute/virtualMachines",
		"networkProfile": obj{"networkInterfaces": refs}}
	if power != "" {
		v["powerState"] = power
	}
	return v
}

// baseEstate is one VNet with subnet s1 (NSG n1 in rg) and VM vm1 with NIC nic1 (10.0.1.4).
func baseEstate(rules ...obj) map[string]any {
	return map[string]any{
		"vnets.json": []obj{vnet("rg", "v1", "10.0.0.0/16", subnet("rg", "v1", "s1", "10.0.1.0/24", nsgID("rg", "n1")))},
		"nsgs.json":  []obj{nsg("rg", "n1", rules...)},
		"nics.json":  []obj{nic("rg", "nic1", vmID("rg", "vm1"), ipc{"ipconfig1", "10.0.1.4", subnetID("rg", "v1", "s1"), nil})},
		"vms.json":   []obj{vm("rg", "vm1", "VM running", nicID("rg", "nic1"))},
	}
}

// run imports the files (each value marshalled to JSON, or raw bytes/string) and loads the
// fixture with the model, which must accept it.
func run(t *testing.T, files map[string]any) (*importer.Output, *model.Environment) {
	t.Helper()
	var ins []importer.Input
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var data []byte
		switch v := files[n].(type) {
		case string:
			data = []byte(v)
		case []byte:
			data = v
		default:
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			data = b
		}
		ins = append(ins, importer.Input{Name: n, Data: data})
	}
	out, err := importer.Import(ins)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	env, err := model.Load(model.Source{Name: "env.toml", Data: out.TOML})
	if err != nil {
		t.Fatalf("model.Load: %v\n%s", err, out.TOML)
	}
	return out, env
}

func rulesOf(env *model.Environment, nsg string) map[string]*model.Rule {
	m := map[string]*model.Rule{}
	for _, g := range env.NSGs {
		if g.Name == nsg {
			for _, r := range g.Rules {
				m[r.Name] = r
			}
		}
	}
	return m
}

func sideString(s model.Side) string {
	var parts []string
	for _, a := range s.Addresses {
		parts = append(parts, a.String())
	}
	for _, a := range s.ASGs {
		parts = append(parts, "asg:"+a.Name)
	}
	return strings.Join(parts, ",") + " " + model.FormatPorts(s.Ports)
}

// TestRuleConversion: every form of a custom rule, and every value ipflow does not accept.
func TestRuleConversion(t *testing.T) {
	tags := `{"values": [{"name": "Storage.WestEurope", "properties": {"addressPrefixes": ["20.38.96.0/19", "2603:1020::/48"]}},
		{"name": "OnlyV6", "properties": {"addressPrefixes": ["2603:1020::/48"]}}]}`
	for _, tc := range []struct {
		name string
		rule obj
		want string // "proto src -> dst" as loaded, or "" when skipped
		warn string
	}{
		{"singular", rule("r", 100), "Tcp * * -> * 22", ""},
		{"plural prefixes and ranges", rule("r", 100, "sourceAddressPrefix", nil, "sourceAddressPrefixes", []string{"10.1.0.0/16", "192.168.1.5"},
			"destinationPortRange", nil, "destinationPortRanges", []string{"80", "8080-8090"}), "Tcp 10.1.0.0/16,192.168.1.5 * -> * 80, 8080-8090", ""},
		{"singular and plural together", rule("r", 100, "destinationPortRanges", []string{"443"}), "Tcp * * -> * 22, 443", ""},
		{"Any protocol", rule("r", 100, "protocol", "Any"), "* * * -> * 22", ""},
		{"All protocol", rule("r", 100, "protocol", "All"), "* * * -> * 22", ""},
		{"lower-case enums", rule("r", 100, "protocol", "udp", "direction", "inbound", "access", "deny"), "Udp * * -> * 22", ""},
		{"priority as a string", rule("r", "100"), "Tcp * * -> * 22", ""},
		{"service tag, case-insensitive", rule("r", 100, "destinationAddressPrefix", "storage.westeurope"), "Tcp * * -> Storage.WestEurope 22", `service tag "Storage.WestEurope": 1 IPv6 prefix skipped`},
		{"built-in tag, legacy spelling", rule("r", 100, "sourceAddressPrefix", "VIRTUAL_NETWORK"), "Tcp VirtualNetwork * -> * 22", ""},
		{"star in a plural list", rule("r", 100, "sourceAddressPrefix", nil, "sourceAddressPrefixes", []string{"10.0.0.0/8", "*"}), "Tcp * * -> * 22", ""},
		{"port 0-65535 and padded values", rule("r", 100, "destinationPortRange", " 0-65535 ", "sourceAddressPrefix", " 10.0.0.0/8 "), "Tcp 10.0.0.0/8 * -> * *", ""},
		{"host bits set", rule("r", 100, "sourceAddressPrefix", "10.1.2.3/16"), "Tcp 10.1.0.0/16 * -> * 22", `"10.1.2.3/16" has host bits set; imported as 10.1.0.0/16`},
		{"IPv6 among IPv4", rule("r", 100, "sourceAddressPrefix", nil, "sourceAddressPrefixes", []string{"10.0.0.0/8", "2001:db8::/32"}), "Tcp 10.0.0.0/8 * -> * 22", "1 IPv6 source prefix dropped"},
		{"name not Azure's pattern", rule("bad name!", 100), "Tcp * * -> * 22", `imported as "bad_name_"`},
		{"long name with spaces", rule(strings.Repeat("allow web ", 10), 100), "Tcp * * -> * 22", `imported as "allow_web_allow_web_`},
		{"no port fields", rule("r", 100, "destinationPortRange", nil, "destinationPortRanges", nil), "Tcp * * -> * *", "no destination port range; imported as *"},
		{"description over 140", rule("r", 100, "description", strings.Repeat("é", 150)), "Tcp * * -> * 22", "cut to 140"},

		{"IPv6 only", rule("r", 100, "sourceAddressPrefix", "2001:db8::/32"), "", "IPv6 only"},
		{"any as an address", rule("r", 100, "sourceAddressPrefix", "any"), "", `"any" is not an address`},
		{"odd prefix", rule("r", 100, "sourceAddressPrefix", "111"), "", `"111" is not an IPv4 address, CIDR, * or service tag`},
		{"unknown tag", rule("r", 100, "destinationAddressPrefix", "Sql"), "", `service tag "Sql" is not in the Service Tags file`},
		{"tag with only IPv6 prefixes", rule("r", 100, "destinationAddressPrefix", "OnlyV6"), "", "no IPv4 prefixes"},
		{"tag mixed with prefixes", rule("r", 100, "destinationAddressPrefix", nil, "destinationAddressPrefixes", []string{"Storage.WestEurope", "10.0.0.0/8"}), "", "a tag must stand alone"},
		{"bad port", rule("r", 100, "destinationPortRange", "70000"), "", `port "70000"`},
		{"reversed range", rule("r", 100, "destinationPortRange", "90-80"), "", `port "90-80"`},
		{"priority too high", rule("r", 4097), "", "outside 100..4096"},
		{"priority not a number", rule("r", "high"), "", "not a number"},
		{"no priority", rule("r", 100, "priority", nil), "", "no priority"},
		{"bad protocol", rule("r", 100, "protocol", "Gre"), "", `protocol "Gre"`},
		{"bad direction", rule("r", 100, "direction", "Sideways"), "", `direction "Sideways"`},
		{"bad access", rule("r", 100, "access", "Maybe"), "", `access "Maybe"`},
		{"prefix and ASG on one side", rule("r", 100, "sourceApplicationSecurityGroups", []obj{{"id": asgID("rg", "a")}}), "", "both address prefixes and application security groups"},
		{"no destination", rule("r", 100, "destinationAddressPrefix", nil), "", "no destination address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := baseEstate(tc.rule)
			files["tags.json"] = tags
			out, env := run(t, files)
			rs := rulesOf(env, "n1")
			if tc.want == "" {
				if len(rs) != 0 {
					t.Errorf("rule imported, want skipped:\n%s", out.TOML)
				}
			} else {
				if len(rs) != 1 {
					t.Fatalf("%d rules imported, want 1; warnings:\n%s", len(rs), strings.Join(out.Warnings, "\n"))
				}
				for _, r := range rs {
					got := fmt.Sprintf("%s %s -> %s", r.Protocol, sideString(r.Source), sideString(r.Destination))
					if got != tc.want {
						t.Errorf("got %q, want %q", got, tc.want)
					}
				}
			}
			if tc.warn != "" && !hasWarning(out.Warnings, tc.warn) {
				t.Errorf("no warning with %q:\n%s", tc.warn, strings.Join(out.Warnings, "\n"))
			}
			if tc.warn == "" && len(out.Warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", strings.Join(out.Warnings, "\n"))
			}
			if tc.want == "" && !hasWarning(out.Warnings, "rule skipped") {
				t.Errorf("the skipped rule has no warning naming it:\n%s", strings.Join(out.Warnings, "\n"))
			}
		})
	}
}

// TestRuleSetProblems: duplicates Azure would refuse, ASG sides, default rules.
func TestRuleSetProblems(t *testing.T) {
	asg := func(n string) obj { return obj{"id": asgID("rg", n)} }
	files := baseEstate(
		rule("a", 100),
		rule("b", 100, "destinationPortRange", "23"), // same priority and direction as a
		rule("c", 100, "direction", "Outbound"),      // same priority, other direction: fine
		rule("A", 200),                               // same name as a, case-insensitively
		rule("web-asg", 300, "sourceAddressPrefix", nil, "sourceApplicationSecurityGroups", []obj{asg("web"), asg("web")}),
		rule("many-asgs", 310, "sourceAddressPrefix", nil, "sourceApplicationSecurityGroups",
			[]obj{asg("a1"), asg("a2"), asg("a3"), asg("a4"), asg("a5"), asg("a6"), asg("a7"), asg("a8"), asg("a9"), asg("a10"), asg("a11")}),
		// Default rules listed among the custom ones (as some exports do) are recognised.
		rule("AllowVnetInBound", 65000, "protocol", "*", "sourceAddressPrefix", "VirtualNetwork", "destinationAddressPrefix", "VirtualNetwork", "destinationPortRange", "*"),
		rule("DenyAllOutBound", 65500, "direction", "Outbound", "access", "Deny", "protocol", "*", "destinationPortRange", "*"),
	)
	out, env := run(t, files)
	rs := rulesOf(env, "n1")
	var names []string
	for n := range rs {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "A_2 a c web-asg" {
		t.Errorf("rules %q\n%s", got, out.TOML)
	}
	if r := rs["web-asg"]; r == nil || len(r.Source.ASGs) != 1 || r.Source.ASGs[0].Name != "web" {
		t.Errorf("web-asg: %+v", r)
	}
	for _, w := range []string{
		`rule "b": has the same priority (100) and direction as rule "a"`,
		`rule "A": another rule has the same name; imported as "A_2"`,
		`rule "many-asgs": it has 11 source application security groups; Azure allows 10`,
	} {
		if !hasWarning(out.Warnings, w) {
			t.Errorf("no warning %q:\n%s", w, strings.Join(out.Warnings, "\n"))
		}
	}
	if strings.Contains(string(out.TOML), "AllowVnetInBound") || strings.Contains(string(out.TOML), "65500") {
		t.Errorf("a default rule was imported:\n%s", out.TOML)
	}
	// The ASG referenced only by the rule exists (made from its id).
	found := false
	for _, a := range env.ASGs {
		found = found || a.Name == "web"
	}
	if !found {
		t.Error("ASG web was not created from the rule's reference")
	}
}
