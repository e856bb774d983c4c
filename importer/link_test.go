package importer_test

import (
	"strings"
	"testing"

	"ipflow/model"
)

func findVM(env *model.Environment, name string) *model.VM {
	for _, v := range env.VMs {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func findVNet(env *model.Environment, name string) *model.VNet {
	for _, v := range env.VNets {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// TestChildResourceFiles: az network nsg rule list, vnet subnet list, vnet peering list and
// route-table route list output join their parents, without duplicates.
func TestChildResourceFiles(t *testing.T) {
	files := baseEstate(rule("r1", 100))
	// The rule list repeats r1 (same id as in nsgs.json) and adds r2; default rules are skipped.
	r1 := rule("r1", 100)
	r1["id"] = nsgID("rg", "n1") + "/securityRules/r1"
	files["nsgs.json"].([]obj)[0]["securityRules"] = []obj{r1}
	r2 := rule("r2", 200, "id", nsgID("rg", "n1")+"/securityRules/r2", "type", "Microsoft.Network/networkSecurityGroups/securityRules")
	d := rule("DenyAllInBound", 65500, "id", nsgID("rg", "n1")+"/defaultSecurityRules/DenyAllInBound", "access", "Deny")
	// A rule of an NSG that was not in nsgs.json makes that NSG.
	r3 := rule("r3", 300, "id", nsgID("rg", "n2")+"/securityRules/r3")
	files["rules.json"] = obj{"value": []obj{r1, r2, d, r3}}
	// A subnet exported on its own, with a route table given as a route list.
	s2 := subnet("rg", "v1", "s2", "10.0.2.0/24", "")
	s2["type"] = "Microsoft.Network/virtualNetworks/subnets"
	rtID := id("rg", "Microsoft.Network/routeTables", "rt")
	s2["routeTable"] = obj{"id": rtID}
	files["subnets.json"] = []obj{s2}
	files["routes.json"] = []obj{
		{"id": rtID + "/routes/default", "name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance"},
		{"id": rtID + "/routes/tagged", "name": "tagged", "addressPrefix": "AzureCloud", "nextHopType": "Internet"},
	}
	// A peering exported on its own, to a VNet that is in vnets.json.
	files["vnets.json"] = append(files["vnets.json"].([]obj), vnet("rg", "v2", "10.2.0.0/16"))
	files["peerings.json"] = []obj{{"id": vnetID("rg", "v1") + "/virtualNetworkPeerings/p", "name": "p",
		"peeringState": "Connected", "remoteVirtualNetwork": obj{"id": vnetID("rg", "v2")}}}

	out, env := run(t, files)
	if rs := rulesOf(env, "n1"); len(rs) != 2 || rs["r1"] == nil || rs["r2"] == nil {
		t.Errorf("n1 rules: %v\n%s", rs, out.TOML)
	}
	if rs := rulesOf(env, "n2"); len(rs) != 1 {
		t.Errorf("n2 rules: %v", rs)
	}
	v1 := findVNet(env, "v1")
	if v1 == nil || len(v1.Subnets) != 2 || len(v1.Peers) != 1 || v1.Peers[0].Name != "v2" {
		t.Fatalf("v1: %+v\n%s", v1, out.TOML)
	}
	if s := v1.Subnets[1]; s.Name != "s2" || len(s.Routes) != 1 || s.Routes[0].String() != "0.0.0.0/0" {
		t.Errorf("s2: %+v", s)
	}
	if !hasWarning(out.Warnings, `route "tagged": its destination is service tag "AzureCloud"`) {
		t.Errorf("warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
}

// TestSameNameAcrossSubscriptions: the same resource group and name in two subscriptions.
func TestSameNameAcrossSubscriptions(t *testing.T) {
	files := baseEstate()
	other := nsg("rg", "n1")
	other["id"] = strings.Replace(nsgID("rg", "n1"), "/subscriptions/s/", "/subscriptions/t/", 1)
	files["nsgs2.json"] = []obj{other}
	out, env := run(t, files)
	var names []string
	for _, g := range env.NSGs {
		names = append(names, g.Name)
	}
	if strings.Join(names, " ") != "s:rg:n1 t:rg:n1" {
		t.Errorf("NSG names %q\n%s", names, out.TOML)
	}
	if !hasWarning(out.Warnings, `2 NSGs are named "n1" in different subscriptions; imported as "s:rg:n1", "t:rg:n1"`) {
		t.Errorf("warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
	// The subnet still points at its own NSG.
	if s := findVNet(env, "v1").Subnets[0]; s.NSG == nil || s.NSG.Name != "s:rg:n1" {
		t.Errorf("subnet NSG %+v", s.NSG)
	}
}

// TestDuplicatesAcrossFiles: a resource in two files is imported once; if the copies differ, a
// warning says which one is used.
func TestDuplicatesAcrossFiles(t *testing.T) {
	files := baseEstate()
	files["nsgs-again.json"] = files["nsgs.json"]
	changed := nsg("rg", "n1", rule("extra", 100))
	files["nsgs-other.json"] = changed
	out, env := run(t, files)
	if len(env.NSGs) != 1 {
		t.Fatalf("%d NSGs", len(env.NSGs))
	}
	// Files are read in name order: nsgs-again.json is the first copy.
	if !hasWarning(out.Warnings, `nsgs-other.json: NSG "n1" (rg) is also in nsgs-again.json; the one in nsgs-again.json is used`) {
		t.Errorf("warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
	if hasWarning(out.Warnings, "nsgs.json:") {
		t.Errorf("an identical copy was warned about:\n%s", strings.Join(out.Warnings, "\n"))
	}
}

// TestPowerState: az vm list -d, get-instance-view (instanceView.statuses) and plain az vm list.
func TestPowerState(t *testing.T) {
	files := baseEstate()
	v := vm("rg", "vm1", "", nicID("rg", "nic1"))
	files["vms.json"] = []obj{v}
	out, env := run(t, files)
	if findVM(env, "vm1").PowerState != model.Running || !hasWarning(out.Warnings, `vms.json: 1 VM has no powerState ("vm1"); imported as running`) {
		t.Errorf("no power state: %v\n%s", findVM(env, "vm1").PowerState, strings.Join(out.Warnings, "\n"))
	}
	// az vm get-instance-view adds the state to the same VM.
	iv := vm("rg", "vm1", "", nicID("rg", "nic1"))
	iv["instanceView"] = obj{"statuses": []obj{{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/deallocated", "displayStatus": "VM deallocated"}}}
	files["zz-instance-view.json"] = iv
	out, env = run(t, files)
	if findVM(env, "vm1").PowerState != model.Deallocated || hasWarning(out.Warnings, "powerState") {
		t.Errorf("instance view: %v\n%s", findVM(env, "vm1").PowerState, strings.Join(out.Warnings, "\n"))
	}
	for state, want := range map[string]model.PowerState{"VM stopped": model.Stopped, "VM starting": model.Starting,
		"VM stopping": model.Stopping, "VM deallocating": model.Deallocating, "PowerState/running": model.Running} {
		files := baseEstate()
		files["vms.json"] = []obj{vm("rg", "vm1", state, nicID("rg", "nic1"))}
		_, env := run(t, files)
		if got := findVM(env, "vm1").PowerState; got != want {
			t.Errorf("%q: %v", state, got)
		}
	}
	files = baseEstate()
	files["vms.json"] = []obj{vm("rg", "vm1", "VM hibernated", nicID("rg", "nic1"))}
	out, _ = run(t, files)
	if !hasWarning(out.Warnings, `power state "VM hibernated" is not one ipflow knows; imported as running`) {
		t.Errorf("warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
}

// TestNICs: NIC NSG from the NSG's back-reference, IP forwarding, several NICs with the primary
// first, IP configurations in another VNet, outside their subnet, or with a duplicate IP.
func TestNICs(t *testing.T) {
	files := baseEstate()
	files["vnets.json"] = append(files["vnets.json"].([]obj), vnet("rg", "v2", "10.2.0.0/16", subnet("rg", "v2", "s", "10.2.0.0/24", "")))
	nsgs := files["nsgs.json"].([]obj)
	nicNSG := nsg("rg", "nic-nsg")
	nicNSG["networkInterfaces"] = []obj{{"id": nicID("rg", "nic2")}}
	files["nsgs.json"] = append(nsgs, nicNSG)
	n2 := nic("rg", "nic2", vmID("rg", "vm1"),
		ipc{"a", "10.0.1.10", subnetID("rg", "v1", "s1"), []string{asgID("rg", "web")}},
		ipc{"b", "10.2.0.10", subnetID("rg", "v2", "s"), nil},  // another VNet
		ipc{"c", "10.0.9.10", subnetID("rg", "v1", "s1"), nil}, // outside its subnet
		ipc{"d", "10.0.1.4", subnetID("rg", "v1", "s1"), nil},  // nic1's address
		ipc{"e", "10.0.1.11", subnetID("rg", "v1", "nope"), nil},
		ipc{"f", "10.0.1.12", subnetID("rg", "gone", "s"), nil},
	)
	delete(n2, "enableIpForwarding")
	n2["enableIPForwarding"] = true
	n2["primary"] = true
	files["nics.json"] = append(files["nics.json"].([]obj), n2)
	v := vm("rg", "vm1", "VM running", nicID("rg", "nic1"), nicID("rg", "nic2"))
	v["networkProfile"].(obj)["networkInterfaces"].([]obj)[1]["primary"] = true
	files["vms.json"] = []obj{v}
	out, env := run(t, files)
	vm1 := findVM(env, "vm1")
	if len(vm1.NICs) != 2 || vm1.NICs[0].Name != "nic2" || !vm1.NICs[0].Primary || vm1.NICs[1].Primary {
		t.Fatalf("NICs: %+v\n%s\n%s", vm1.NICs, out.TOML, strings.Join(out.Warnings, "\n"))
	}
	n := vm1.NICs[0]
	if n.NSG == nil || n.NSG.Name != "nic-nsg" || !n.IPForwarding || len(n.IPConfigs) != 1 || len(n.IPConfigs[0].ASGs) != 1 {
		t.Errorf("nic2: %+v", n)
	}
	for _, w := range []string{
		`IP configuration "b": its subnet is in VNet "v2", but the NIC's primary IP configuration is in VNet "v1"`,
		`IP configuration "c": private IP 10.0.9.10 is outside its subnet "s1"`,
		`IP configuration "d": private IP 10.0.1.4 is also used by NIC "nic1"`,
		`IP configuration "e": its subnet`,
		`IP configuration "f": its VNet "gone" (rg) was not exported`,
	} {
		if !hasWarning(out.Warnings, w) {
			t.Errorf("no warning %q:\n%s", w, strings.Join(out.Warnings, "\n"))
		}
	}
}

// TestNamesAreQuoted: names with quotes, backslashes, newlines, '/', ':' and non-ASCII survive
// as TOML strings the model reads back.
func TestNamesAreQuoted(t *testing.T) {
	files := baseEstate()
	odd := "we\"ird\\name\n\tü☃"
	files["vnets.json"] = []obj{vnet("rg", "v/1", "10.0.0.0/16", subnet("rg", "v/1", "s:1", "10.0.1.0/24", nsgID("rg", odd)))}
	files["nsgs.json"] = []obj{nsg("rg", odd, rule("r", 100, "description", "say \"hi\"\n\\ \x01"))}
	files["nics.json"] = []obj{nic("rg", "nic:1", vmID("rg", "vm 1"), ipc{"ip\"1", "10.0.1.4", subnetID("rg", "v/1", "s:1"), nil})}
	files["vms.json"] = []obj{vm("rg", "vm 1", "VM running", nicID("rg", "nic:1"))}
	out, env := run(t, files)
	if len(env.NSGs) != 1 || env.NSGs[0].Name != odd || env.NSGs[0].Rules[0].Description != "say \"hi\"\n\\ \x01" {
		t.Errorf("NSG %+v", env.NSGs)
	}
	if v := findVM(env, "vm 1"); v == nil || v.NICs[0].IPConfigs[0].Subnet.Path() != "v_1/s:1" {
		t.Errorf("VM: %+v\n%s", v, out.TOML)
	}
	if !hasWarning(out.Warnings, `a VNet name cannot contain '/'`) {
		t.Errorf("warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
}

// TestPagedList: a REST list response with a nextLink is only its first page.
func TestPagedList(t *testing.T) {
	files := baseEstate()
	files["nsgs.json"] = obj{"value": files["nsgs.json"], "nextLink": "https://management.azure.com/...&$skiptoken=abc"}
	out, _ := run(t, files)
	if !hasWarning(out.Warnings, "nsgs.json: a paged list response") {
		t.Errorf("warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
	files = baseEstate()
	files["nsgs.json"] = obj{"count": 1, "data": files["nsgs.json"], "skip_token": "ew0KICAiJGlkIjogIjEiLA0K"}
	out, _ = run(t, files)
	if !hasWarning(out.Warnings, "nsgs.json: a paged list response") {
		t.Errorf("Resource Graph: warnings:\n%s", strings.Join(out.Warnings, "\n"))
	}
}

// TestVNetProblems: IPv6-only VNet, overlapping address prefixes, multi-prefix and overlapping
// subnets, a peering whose remote was not exported and shows no address space.
func TestVNetProblems(t *testing.T) {
	files := baseEstate()
	v1 := files["vnets.json"].([]obj)[0]
	v1["addressSpace"] = obj{"addressPrefixes": []string{"10.0.0.0/16", "10.0.128.0/17", "10.9.0.0/16"}}
	s2 := subnet("rg", "v1", "s2", "", "")
	delete(s2, "addressPrefix")
	s2["addressPrefixes"] = []string{"10.9.1.0/24", "10.9.2.0/24"}
	v1["subnets"] = append(v1["subnets"].([]obj), s2, subnet("rg", "v1", "s3", "10.0.1.128/25", ""), subnet("rg", "v1", "s4", "10.5.0.0/24", ""))
	v1["virtualNetworkPeerings"] = []obj{{"name": "p", "peeringState": "Connected", "remoteVirtualNetwork": obj{"id": vnetID("rg", "far")}}}
	files["vnets.json"] = []obj{v1, vnet("rg", "v6", "fd00::/48")}
	out, env := run(t, files)
	if v := findVNet(env, "v1"); v == nil || len(v.AddressSpace) != 2 || len(v.Subnets) != 2 {
		t.Errorf("v1: %+v\n%s", v, out.TOML)
	}
	for _, w := range []string{
		"address space 10.0.128.0/17 overlaps 10.0.0.0/16; skipped",
		`subnet "s2": ipflow holds one prefix per subnet; imported with 10.9.1.0/24, without 10.9.2.0/24`,
		`subnet "s3": prefix 10.0.1.128/25 overlaps subnet "s1"`,
		`subnet "s4": prefix 10.5.0.0/24 is outside the VNet's address space`,
		`peering "p": remote VNet "far" (rg) was not exported and the peering shows no IPv4 address space`,
		`VNet "v6" (rg): it has no IPv4 address space; VNet skipped`,
	} {
		if !hasWarning(out.Warnings, w) {
			t.Errorf("no warning %q:\n%s", w, strings.Join(out.Warnings, "\n"))
		}
	}
}
