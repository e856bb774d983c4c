package importer_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestAzureRules: what Azure forbids between resources is left out with a warning, so that the
// fixture loads (run checks that the model accepts it).
func TestAzureRules(t *testing.T) {
	t.Run("a rule with ASGs on both sides in two VNets", func(t *testing.T) {
		files := baseEstate(rule("both", 100, "sourceAddressPrefix", nil, "sourceApplicationSecurityGroups", []obj{{"id": asgID("rg", "far")}},
			"destinationAddressPrefix", nil, "destinationApplicationSecurityGroups", []obj{{"id": asgID("rg", "near")}}),
			rule("one", 110, "sourceAddressPrefix", nil, "sourceApplicationSecurityGroups", []obj{{"id": asgID("rg", "far")}}))
		files["vnets.json"] = append(files["vnets.json"].([]obj), vnet("rg", "v2", "10.2.0.0/16", subnet("rg", "v2", "s", "10.2.0.0/24", "")))
		files["nics.json"] = []obj{
			nic("rg", "nic1", vmID("rg", "vm1"), ipc{"ipconfig1", "10.0.1.4", subnetID("rg", "v1", "s1"), []string{asgID("rg", "near")}}),
			nic("rg", "nic2", vmID("rg", "vm2"), ipc{"ipconfig1", "10.2.0.4", subnetID("rg", "v2", "s"), []string{asgID("rg", "far")}}),
		}
		files["vms.json"] = []obj{vm("rg", "vm1", "VM running", nicID("rg", "nic1")), vm("rg", "vm2", "VM running", nicID("rg", "nic2"))}
		out, env := run(t, files)
		if rs := rulesOf(env, "n1"); len(rs) != 1 || rs["one"] == nil {
			t.Errorf("rules: %v\n%s", rs, out.TOML)
		}
		want(t, out.Warnings, `rule "both": ASG "far" has its members in VNet "v2" and ASG "near" in VNet "v1"; Azure requires the ASGs of a rule with ASGs on both sides in one VNet; rule skipped`)
	})
	t.Run("all NICs of a VM in one VNet", func(t *testing.T) {
		files := baseEstate()
		files["vnets.json"] = append(files["vnets.json"].([]obj), vnet("rg", "v2", "10.2.0.0/16", subnet("rg", "v2", "s", "10.2.0.0/24", "")))
		files["nics.json"] = []obj{
			nic("rg", "nic1", vmID("rg", "vm1"), ipc{"ipconfig1", "10.0.1.4", subnetID("rg", "v1", "s1"), nil}),
			nic("rg", "nic2", vmID("rg", "vm1"), ipc{"ipconfig1", "10.2.0.4", subnetID("rg", "v2", "s"), nil}),
		}
		v := vm("rg", "vm1", "VM running", nicID("rg", "nic1"), nicID("rg", "nic2"))
		v["networkProfile"].(obj)["networkInterfaces"].([]obj)[0]["primary"] = true
		files["vms.json"] = []obj{v}
		out, env := run(t, files)
		if vm1 := findVM(env, "vm1"); len(vm1.NICs) != 1 || vm1.NICs[0].Name != "nic1" {
			t.Errorf("NICs: %+v\n%s", vm1.NICs, out.TOML)
		}
		want(t, out.Warnings, `NIC "nic2" (rg): it is in VNet "v2", but VM "vm1" has its primary NIC in VNet "v1" (Azure keeps all NICs of a VM in one VNet); skipped`)
	})
	t.Run("peered VNets whose address spaces overlap", func(t *testing.T) {
		files := baseEstate()
		v1 := files["vnets.json"].([]obj)[0]
		v1["virtualNetworkPeerings"] = []obj{
			{"name": "to-twin", "peeringState": "Connected", "remoteVirtualNetwork": obj{"id": vnetID("rg", "twin")}},
			{"name": "to-ghost", "peeringState": "Connected", "remoteVirtualNetwork": obj{"id": vnetID("rg", "ghost")},
				"remoteAddressSpace": obj{"addressPrefixes": []string{"10.0.200.0/24"}}},
		}
		files["vnets.json"] = append(files["vnets.json"].([]obj), vnet("rg", "twin", "10.0.128.0/17"))
		out, env := run(t, files)
		if v := findVNet(env, "v1"); v == nil || len(v.Peers) != 0 {
			t.Errorf("v1: %+v\n%s", v, out.TOML)
		}
		want(t, out.Warnings, `peering "to-twin": 10.0.0.0/16 overlaps 10.0.128.0/17 of VNet "twin", and Azure peers only VNets whose address spaces do not overlap; peering skipped`,
			`peering "to-ghost": 10.0.0.0/16 overlaps 10.0.200.0/24 of VNet "ghost"`)
	})
	t.Run("at most 4,000 addresses on a side", func(t *testing.T) {
		many := make([]string, 4001)
		for i := range many {
			many[i] = fmt.Sprintf("203.%d.%d.0/24", i/256, i%256)
		}
		out, env := run(t, baseEstate(rule("wide", 100, "sourceAddressPrefix", nil, "sourceAddressPrefixes", many),
			rule("ok", 110, "sourceAddressPrefix", nil, "sourceAddressPrefixes", many[:4000])))
		if rs := rulesOf(env, "n1"); len(rs) != 1 || rs["ok"] == nil {
			t.Errorf("rules: %v", rs)
		}
		want(t, out.Warnings, `rule "wide": its source has 4001 IP addresses and ranges; Azure allows at most 4000 per side`)
	})
	t.Run("at most 20 ASGs per IP configuration", func(t *testing.T) {
		files := baseEstate()
		var ids []string
		for i := range 21 {
			ids = append(ids, asgID("rg", fmt.Sprintf("g%02d", i)))
		}
		files["nics.json"] = []obj{nic("rg", "nic1", vmID("rg", "vm1"), ipc{"ipconfig1", "10.0.1.4", subnetID("rg", "v1", "s1"), ids})}
		out, env := run(t, files)
		if c := findVM(env, "vm1").NICs[0].IPConfigs[0]; len(c.ASGs) != 20 {
			t.Errorf("%d ASGs", len(c.ASGs))
		}
		want(t, out.Warnings, `ASG "g20" is beyond the 20 application security groups Azure allows per IP configuration; membership skipped`)
	})
	t.Run("at most 100 ASGs in the rules of one NSG", func(t *testing.T) {
		var rules []obj
		for i := range 101 {
			rules = append(rules, rule(fmt.Sprintf("r%03d", i), 100+i, "destinationAddressPrefix", nil,
				"destinationApplicationSecurityGroups", []obj{{"id": asgID("rg", fmt.Sprintf("g%03d", i))}}))
		}
		out, env := run(t, baseEstate(rules...))
		if rs := rulesOf(env, "n1"); len(rs) != 100 || rs["r100"] != nil {
			t.Errorf("%d rules", len(rs))
		}
		want(t, out.Warnings, `rule "r100": its ASGs would bring the NSG's rules beyond the 100 application security groups Azure allows in one NSG; rule skipped`)
	})
	t.Run("at most 4,000 members per ASG", func(t *testing.T) {
		files := baseEstate()
		files["vnets.json"] = []obj{vnet("rg", "v1", "10.0.0.0/16", subnet("rg", "v1", "s1", "10.0.0.0/16", nsgID("rg", "n1")))}
		var nics, vms []obj
		for i := range 4001 {
			n := fmt.Sprintf("nic%d", i)
			nics = append(nics, nic("rg", n, vmID("rg", "vm"+n), ipc{"ipconfig1", fmt.Sprintf("10.0.%d.%d", i/250, 4+i%250), subnetID("rg", "v1", "s1"), []string{asgID("rg", "web")}}))
			vms = append(vms, vm("rg", "vm"+n, "VM running", nicID("rg", n)))
		}
		files["nics.json"], files["vms.json"] = nics, vms
		out, env := run(t, files)
		if a := env.ASGs[0]; len(a.Members) != 4000 {
			t.Errorf("%d members", len(a.Members))
		}
		want(t, out.Warnings, `ASG "web" already has the 4000 members Azure allows; membership skipped`)
	})
}

func want(t *testing.T, warnings []string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !hasWarning(warnings, p) {
			t.Errorf("no warning with %q:\n%s", p, strings.Join(warnings, "\n"))
		}
	}
}
