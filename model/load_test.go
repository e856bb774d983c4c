package model

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadSpecExample(t *testing.T) *Environment {
	t.Helper()
	data, err := os.ReadFile("testdata/spec-example.toml")
	if err != nil {
		t.Fatal(err)
	}
	env, err := Load(Source{Name: "spec.toml", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestLoadSpecExample(t *testing.T) {
	env := loadSpecExample(t)
	if env.Name != "contoso-prod" || env.Description != "Hub and spoke, West Europe" {
		t.Errorf("environment = %q, %q", env.Name, env.Description)
	}
	if !slices.Equal(env.Files, []string{"spec.toml"}) {
		t.Errorf("Files = %v", env.Files)
	}
	if len(env.VNets) != 2 || len(env.NSGs) != 2 || len(env.ASGs) != 2 || len(env.VMs) != 2 || len(env.AdminRules) != 1 {
		t.Fatalf("counts: %d vnets, %d nsgs, %d asgs, %d vms, %d admin rules", len(env.VNets), len(env.NSGs), len(env.ASGs), len(env.VMs), len(env.AdminRules))
	}
	if len(env.Warnings) != 0 {
		t.Errorf("warnings: %v", env.Warnings)
	}
	if got := env.ServiceTags["Storage.WestEurope"]; len(got) != 2 || got[0] != netip.MustParsePrefix("20.38.96.0/19") {
		t.Errorf("service tag = %v", got)
	}

	hub, spoke := env.VNets[0], env.VNets[1]
	// Peering declared on the hub only; both sides see it.
	if len(hub.Peers) != 1 || hub.Peers[0] != spoke || len(spoke.Peers) != 1 || spoke.Peers[0] != hub {
		t.Errorf("peers: hub %v, spoke %v", hub.Peers, spoke.Peers)
	}
	if hub.Pos.String() != "spec.toml:9" {
		t.Errorf("hub.Pos = %v", hub.Pos)
	}
	web := hub.Subnets[0]
	if web.VNet != hub || web.NSG != env.NSGs[1] || web.Path() != "hub/web" || web.Pos.Line != 15 {
		t.Errorf("subnet web = %+v", web)
	}
	if !slices.Equal(web.Routes, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}) || !slices.Equal(hub.OnPremPrefixes, []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}) {
		t.Errorf("routes %v, onprem %v", web.Routes, hub.OnPremPrefixes)
	}

	// Rules: every field, and positions of [[nsg.rule]] and inline-array rules.
	https := env.NSGs[0].Rules[0]
	want := &Rule{Name: "allow-https", Kind: CustomRule, Priority: 100, Direction: Inbound, Access: Allow, Protocol: TCP,
		Source:      Side{Addresses: []Address{{Kind: TagAddress, Tag: "Internet"}}, Ports: []PortRange{AllPorts()}},
		Destination: Side{Addresses: []Address{{Kind: AnyAddress}}, Ports: []PortRange{{443, 443}, {8000, 8080}}},
		Description: "Public HTTPS", Pos: Pos{"spec.toml", 32}}
	if !rulesEqual(https, want) {
		t.Errorf("rule = %+v\nwant %+v", https, want)
	}
	asgRule := env.NSGs[0].Rules[1]
	if len(asgRule.Source.ASGs) != 1 || asgRule.Source.ASGs[0] != env.ASGs[0] || len(asgRule.Source.Addresses) != 0 ||
		len(asgRule.Destination.ASGs) != 0 || len(asgRule.Destination.Addresses) != 1 || !slices.Equal(asgRule.Destination.Ports, []PortRange{{8080, 8080}}) {
		t.Errorf("asg rule = %+v", asgRule)
	}
	inline := env.NSGs[1].Rules
	if len(inline) != 2 || inline[0].Pos.Line != 57 || inline[1].Pos.Line != 58 {
		t.Errorf("inline rules: %+v", inline)
	}
	// Tags are matched case-insensitively and stored in their declared spelling.
	if a := inline[1].Destination.Addresses[0]; a.Kind != TagAddress || a.Tag != "Storage.WestEurope" {
		t.Errorf("tag = %+v", a)
	}
	if inline[1].Protocol != AnyProtocol {
		t.Errorf("protocol = %v", inline[1].Protocol)
	}

	// VMs, NICs, IP configurations, ASG membership.
	web01, app01 := env.VMs[0], env.VMs[1]
	nic := web01.NICs[0]
	if web01.PowerState != Running || app01.PowerState != Deallocated {
		t.Errorf("power states %v %v", web01.PowerState, app01.PowerState)
	}
	if nic.VM != web01 || nic.NSG != env.NSGs[0] || !nic.Primary || nic.IPForwarding || web01.PrimaryNIC() != nic {
		t.Errorf("nic = %+v", nic)
	}
	c := nic.IPConfigs[0]
	if c.Name != "ipconfig1" || c.NIC != nic || c.Subnet != web || c.PrivateIP != netip.MustParseAddr("10.0.1.4") || !c.Primary || len(c.ASGs) != 1 || c.ASGs[0] != env.ASGs[0] {
		t.Errorf("ipconfig = %+v", c)
	}
	appNIC := app01.NICs[0]
	if !appNIC.Primary || len(appNIC.IPConfigs) != 2 || appNIC.IPConfigs[0].Primary || !appNIC.IPConfigs[1].Primary || appNIC.PrimaryIPConfig().Name != "ipconfig2" {
		t.Errorf("app nic = %+v", appNIC)
	}
	if !slices.Equal(env.ASGs[0].Members, []*IPConfig{c}) || !slices.Equal(env.ASGs[1].Members, []*IPConfig{appNIC.IPConfigs[0]}) {
		t.Errorf("members: %v / %v", env.ASGs[0].Members, env.ASGs[1].Members)
	}

	a := env.AdminRules[0]
	if a.Kind != AdminRuleKind || a.Priority != 1 || a.Access != Deny || !slices.Equal(a.VNets, []*VNet{hub}) || !a.AppliesTo(hub) || a.AppliesTo(spoke) || a.ID() != "securityAdminRules/deny-ssh-from-internet" {
		t.Errorf("admin rule = %+v", a)
	}
}

func rulesEqual(a, b *Rule) bool {
	sideEq := func(x, y Side) bool {
		return slices.Equal(x.Addresses, y.Addresses) && slices.Equal(x.ASGs, y.ASGs) && slices.Equal(x.Ports, y.Ports)
	}
	return a.Name == b.Name && a.Kind == b.Kind && a.Priority == b.Priority && a.Direction == b.Direction &&
		a.Access == b.Access && a.Protocol == b.Protocol && sideEq(a.Source, b.Source) && sideEq(a.Destination, b.Destination) &&
		a.Description == b.Description && a.Pos == b.Pos
}

func TestLoadDefaultsAndLenientForms(t *testing.T) {
	env, err := loadCase(`[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 4096
  direction = "outbound"
  access = "deny"
  protocol = "any"
  source = ["10.0.0.0/8", "192.168.1.1"]
  destination = "virtualnetwork"
  source_ports = [80, "1000-2000"]
  destination_ports = 443
  [[nsg.rule]]
  name = "same-priority-other-direction"
  priority = 4096
  direction = "Inbound"
  access = "Allow"
  protocol = "Udp"
  source = "*"
  destination = "*"
[[vm]]
name = "m"
  [[vm.nic]]
  name = "m1"
  nsg = "n"
  private_ip = "10.0.1.10"
  subnet = "base/web"
  [[vm.nic]]
  name = "m2"
  primary = true
  private_ip = "10.0.2.10"
  subnet = "base/app"
[[admin_rule]]
name = "a1"
priority = 7
direction = "Inbound"
access = "alwaysallow"
protocol = "Tcp"
source = ["Internet", "AzureLoadBalancer"]
destination = "*"
[[admin_rule]]
name = "a2"
priority = 7
direction = "Outbound"
access = "Allow"
protocol = "Tcp"
source = "*"
destination = "*"
`)
	if err != nil {
		t.Fatal(err)
	}
	r := env.NSGs[0].Rules[0]
	if r.Direction != Outbound || r.Access != Deny || r.Protocol != AnyProtocol || r.Priority != 4096 {
		t.Errorf("enums: %+v", r)
	}
	if !slices.Equal(r.Source.Ports, []PortRange{{80, 80}, {1000, 2000}}) || !slices.Equal(r.Destination.Ports, []PortRange{{443, 443}}) {
		t.Errorf("ports: %v %v", r.Source.Ports, r.Destination.Ports)
	}
	if r.Source.Addresses[1].Prefix != netip.MustParsePrefix("192.168.1.1/32") || r.Destination.Addresses[0].Tag != TagVirtualNetwork {
		t.Errorf("addresses: %v %v", r.Source.Addresses, r.Destination.Addresses)
	}
	vm := env.VMs[0]
	if vm.NICs[0].Primary || !vm.NICs[1].Primary || vm.PrimaryNIC().Name != "m2" {
		t.Errorf("primary NIC: %v %v", vm.NICs[0].Primary, vm.NICs[1].Primary)
	}
	a := env.AdminRules[0]
	if a.Access != AlwaysAllow || a.VNets != nil || !a.AppliesTo(env.VNets[0]) || len(a.Source.Addresses) != 2 {
		t.Errorf("admin rule: %+v", a)
	}
	// base-nsg on base/web, n on m1: no "attached nowhere" warnings.
	if len(env.Warnings) != 0 {
		t.Errorf("warnings: %v", env.Warnings)
	}
}

func TestLoadMergesFiles(t *testing.T) {
	a := Source{Name: "a.toml", Data: []byte(`[environment]
name = "split"

[service_tags]
"Storage" = ["20.0.0.0/8"]

[[vnet]]
name = "hub"
address_space = ["10.0.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.0.0/24"
  nsg = "n"
`)}
	b := Source{Name: "b.toml", Data: []byte(`[environment]
description = "in two files"

[service_tags]
"Sql" = ["21.0.0.0/8"]

[[vnet]]
name = "spoke"
address_space = ["10.1.0.0/16"]
peerings = ["hub"]

[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r"
  priority = 100
  direction = "Outbound"
  access = "Allow"
  protocol = "Tcp"
  source = "*"
  destination = "storage"

[[vm]]
name = "m"
  [[vm.nic]]
  name = "m-nic"
  private_ip = "10.0.0.4"
  subnet = "hub/s"
`)}
	env, err := Load(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if env.Name != "split" || env.Description != "in two files" || !slices.Equal(env.Files, []string{"a.toml", "b.toml"}) {
		t.Errorf("environment: %q %q %v", env.Name, env.Description, env.Files)
	}
	if len(env.ServiceTags) != 2 || len(env.VNets) != 2 || env.VNets[0].Peers[0] != env.VNets[1] {
		t.Errorf("merge: tags %v, vnets %v", env.ServiceTags, env.VNets)
	}
	if env.VNets[0].Subnets[0].NSG != env.NSGs[0] || env.NSGs[0].Pos.String() != "b.toml:12" {
		t.Errorf("cross-file reference: %+v", env.VNets[0].Subnets[0])
	}

	// The same names again in a third file: every duplicate names both places.
	c := Source{Name: "dir/c.toml", Data: []byte(`[environment]
name = "other"

[service_tags]
"STORAGE" = ["22.0.0.0/8"]

[[vnet]]
name = "hub"
address_space = ["10.2.0.0/16"]

[[nsg]]
name = "n"
`)}
	_, err = Load(a, b, c)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`dir/c.toml:2: environment: name "other" conflicts with name "split" set at a.toml:2`,
		`dir/c.toml:5: service_tags: service tag "STORAGE" is defined twice; first defined at a.toml:5 as "Storage" (tags are case-insensitive)`,
		`dir/c.toml:7: vnet "hub": defined twice; first defined at a.toml:7`,
		`dir/c.toml:11: nsg "n": defined twice; first defined at b.toml:12`,
	}
	if got := issueStrings(le.Errors); !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", fmtList(got), fmtList(want))
	}
}

// TestLoadReportsEveryError: one fixture with many independent errors reports them all, in
// file and line order, with the warnings.
func TestLoadReportsEveryError(t *testing.T) {
	src := `[[vnet]]
name = "v"
address_space = ["10.0.0.0/33"]
peerings = ["nowhere"]

[[nsg]]
name = "n"
  [[nsg.rule]]
  name = "r1"
  priority = 50
  direction = "Sideways"
  access = "Allow"
  protocol = "Tcp"
  source = "any"
  destination = "*"
  destination_ports = "70000"
  destinaton_asgs = ["x"]

[[vm]]
name = "m"
power_state = "asleep"
`
	_, err := Load(Source{Name: "env.toml", Data: []byte(src)})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`env.toml:3: vnet "v": address_space "10.0.0.0/33": not an IPv4 CIDR (like 10.0.0.0/16)`,
		`env.toml:4: vnet "v": peerings: no vnet named "nowhere"; defined: "v"`,
		`env.toml:10: nsg "n" rule "r1": priority 50: must be between 100 and 4096`,
		`env.toml:11: nsg "n" rule "r1": direction "Sideways": must be Inbound or Outbound`,
		`env.toml:14: nsg "n" rule "r1": source "any" is not an address: use * for every address`,
		`env.toml:16: nsg "n" rule "r1": destination_ports "70000": port out of range 0..65535`,
		`env.toml:17: nsg "n" rule "r1": unknown key destinaton_asgs; did you mean destination_asgs?`,
		`env.toml:19: vm "m": needs at least one NIC: add [[vm.nic]] after it`,
		`env.toml:21: vm "m": power_state "asleep": must be one of running, stopped, starting, stopping, deallocating, deallocated`,
	}
	if got := issueStrings(le.Errors); !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", fmtList(got), fmtList(want))
	}
	if got := issueStrings(le.Warnings); !slices.Equal(got, []string{`env.toml:6: nsg "n": attached to no subnet and no NIC, so its rules apply nowhere`}) {
		t.Errorf("warnings: %s", fmtList(got))
	}
	if !strings.Contains(le.Error(), "\n") {
		t.Errorf("Error() should list one error per line: %q", le.Error())
	}
}

func TestLoadNoSources(t *testing.T) {
	if _, err := Load(); err == nil || err.Error() != "no fixture files" {
		t.Errorf("err = %v", err)
	}
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("b.toml", "# b\n")
	write("a.toml", "# a\n")
	write("notes.txt", "not a fixture")
	write(".hidden.toml", "# hidden\n")
	write("sub/c.toml", "# in a subdirectory: not loaded\n")
	single := write("single/x.TOML", "# x\n")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	srcs, err := ReadPaths([]string{dir, single, filepath.Join(dir, "a.toml")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range srcs {
		names = append(names, s.Name)
	}
	want := []string{filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.toml"), single}
	if !slices.Equal(names, want) {
		t.Errorf("names = %v, want %v (sorted, not recursive, no hidden files, each file once)", names, want)
	}
	if string(srcs[0].Data) != "# a\n" {
		t.Errorf("data = %q", srcs[0].Data)
	}

	// ReadPathsProgress tells the files and bytes read after each file, as it goes.
	type step struct {
		files int
		bytes int64
	}
	var steps []step
	srcs2, err := ReadPathsProgress([]string{dir, single}, 0, func(files int, bytes int64) {
		steps = append(steps, step{files, bytes})
	})
	if err != nil || len(srcs2) != 3 {
		t.Fatalf("ReadPathsProgress: %d sources, %v", len(srcs2), err)
	}
	if want := []step{{1, 4}, {2, 8}, {3, 12}}; !slices.Equal(steps, want) {
		t.Errorf("progress %v, want %v", steps, want)
	}

	missing := filepath.Join(dir, "missing.toml")
	if _, err := ReadPaths([]string{missing}, 0); err == nil || err.Error() != "cannot read "+missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	if _, err := ReadPaths([]string{empty}, 0); err == nil || err.Error() != empty+": no *.toml files in this directory" {
		t.Errorf("empty dir: %v", err)
	}
	if srcs, err := ReadPaths(nil, 0); err != nil || len(srcs) != 0 {
		t.Errorf("no paths: %v %v", srcs, err)
	}
	if os.Geteuid() != 0 { // root reads anything
		locked := write("locked.toml", "")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPaths([]string{locked}, 0); err == nil || err.Error() != "cannot read "+locked+": permission denied" {
			t.Errorf("unreadable: %v", err)
		}
	}
}
