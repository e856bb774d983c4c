package engine_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/model"
)

// base is the estate every case starts from: hub (10.0.0.0/16, on-prem 192.168.0.0/16) peered
// with spoke (10.2.0.0/16, on-prem 172.30.0.0/16), which is peered with leaf (10.3.0.0/16).
// %s markers are filled per case: the subnet NSG's rules, the NIC NSG's rules, extra TOML.
const base = `
[service_tags]
"Storage.WestEurope" = ["20.38.96.0/19"]

[[vnet]]
name = "hub"
address_space = ["10.0.0.0/16"]
peerings = ["spoke"]
onprem_prefixes = ["192.168.0.0/16"]
  [[vnet.subnet]]
  name = "web"
  prefix = "10.0.1.0/24"
  %s
  [[vnet.subnet]]
  name = "tunnel"
  prefix = "10.0.3.0/24"
  routes = ["0.0.0.0/0"]
  nsg = "tunnel-nsg"
  [[vnet.subnet]]
  name = "udr"
  prefix = "10.0.4.0/24"
  routes = ["172.20.0.0/16"]
  nsg = "tunnel-nsg"

[[vnet]]
name = "spoke"
address_space = ["10.2.0.0/16"]
peerings = ["leaf"]
onprem_prefixes = ["172.30.0.0/16"]
  [[vnet.subnet]]
  name = "app"
  prefix = "10.2.0.0/24"

[[vnet]]
name = "leaf"
address_space = ["10.3.0.0/16"]
  [[vnet.subnet]]
  name = "x"
  prefix = "10.3.0.0/24"

[[asg]]
name = "web"
[[asg]]
name = "app"

[[nsg]]
name = "tunnel-nsg"
  [[nsg.rule]]
  name = "deny-internet-out"
  priority = 3000
  direction = "Outbound"
  access = "Deny"
  protocol = "*"
  source = "*"
  destination = "Internet"

[[vm]]
name = "vm1"
  [[vm.nic]]
  name = "nic1"
  %s
    [[vm.nic.ip_config]]
    name = "ipconfig1"
    private_ip = "10.0.1.4"
    subnet = "hub/web"
    asgs = ["web"]
    [[vm.nic.ip_config]]
    name = "ipconfig2"
    private_ip = "10.0.1.5"
    subnet = "hub/web"
  [[vm.nic]]
  name = "nic1b"
  private_ip = "10.0.4.4"
  subnet = "hub/udr"
  asgs = ["app"]

[[vm]]
name = "vm2"
  [[vm.nic]]
  name = "nic2"
  private_ip = "10.2.0.4"
  subnet = "spoke/app"

[[vm]]
name = "tunnel-vm"
  [[vm.nic]]
  name = "tunnel-nic"
  private_ip = "10.0.3.4"
  subnet = "hub/tunnel"

[[vm]]
name = "parked"
power_state = "deallocated"
  [[vm.nic]]
  name = "parked-nic"
  private_ip = "10.0.1.20"
  subnet = "hub/web"

[[vm]]
name = "stopped-vm"
power_state = "stopped"
  [[vm.nic]]
  name = "stopped-nic"
  private_ip = "10.0.1.21"
  subnet = "hub/web"

%s
`

// rule writes one [[nsg.rule]] block from "key=value" pairs, so cases stay one line each.
func rule(kv ...string) string {
	var b strings.Builder
	b.WriteString("\n  [[nsg.rule]]\n")
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		switch {
		case strings.HasPrefix(v, "["), k == "priority":
		default:
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, "  %s = %s\n", k, v)
	}
	return b.String()
}

// estate builds an engine with the given subnet NSG and NIC NSG rules ("" = no NSG at that
// level; "none" = an NSG with no custom rules) and extra TOML.
func estate(t testing.TB, subnetRules, nicRules, extra string) *engine.Engine {
	t.Helper()
	subnetRef, nicRef := "", ""
	if subnetRules != "" {
		subnetRef = `nsg = "subnet-nsg"`
		extra += "\n[[nsg]]\nname = \"subnet-nsg\"\n" + strings.TrimPrefix(subnetRules, "none")
	}
	if nicRules != "" {
		nicRef = `nsg = "nic-nsg"`
		extra += "\n[[nsg]]\nname = \"nic-nsg\"\n" + strings.TrimPrefix(nicRules, "none")
	}
	src := fmt.Sprintf(base, subnetRef, nicRef, extra)
	env, err := model.Load(model.Source{Name: "test.toml", Data: []byte(src)})
	if err != nil {
		t.Fatalf("fixture does not load: %v\n%s", err, src)
	}
	return engine.Compile(env)
}

// flow parses "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:60000 [nic]".
func flow(t testing.TB, s string) engine.Flow {
	t.Helper()
	p := strings.Fields(s)
	d, err1 := model.ParseDirection(p[1])
	proto, err2 := model.ParseFlowProtocol(p[2])
	la, lp, err3 := engine.ParseEndpoint(p[3])
	ra, rp, err4 := engine.ParseEndpoint(p[4])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatalf("bad test flow %q: %v", s, err)
	}
	f := engine.Flow{VM: p[0], Direction: d, Protocol: proto, LocalIP: la, LocalPort: lp, RemoteIP: ra, RemotePort: rp}
	if len(p) > 5 {
		f.NIC = p[5]
	}
	return f
}

var (
	allowHTTPS   = rule("name=allow-https", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "destination=*", `destination_ports=["443", "8000-8080"]`)
	denyHTTPSNIC = rule("name=deny-https", "priority=100", "direction=Inbound", "access=Deny", "protocol=Tcp", "source=*", "destination=*", "destination_ports=443")
	allowNIC443  = rule("name=allow-443", "priority=300", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "destination=*", "destination_ports=443")
	denySMTPOut  = rule("name=deny-smtp", "priority=100", "direction=Outbound", "access=Deny", "protocol=Tcp", "source=*", "destination=Internet", "destination_ports=25")
	allowOut443  = rule("name=allow-out-443", "priority=150", "direction=Outbound", "access=Allow", "protocol=Tcp", "source=*", "destination=*", "destination_ports=443")
)

type verdictCase struct {
	name      string
	fact      string // the Azure fact checked, as its documentation states it
	subnet    string
	nic       string
	extra     string
	flow      string
	access    model.Access
	ruleName  string // "" = no rule decided
	nsg       string // NSG of the deciding rule, "" for none/admin
	appliedTo string
}

func TestVerdicts(t *testing.T) {
	cases := []verdictCase{
		// Levels and their order (§5.1, [D3]).
		{name: "no NSG anywhere allows with no rule name", fact: "§5.1 [D3] 'All network traffic is allowed through a subnet and network interface if they don't have a network security group'; §5.5 [S1] ruleName not displayed",
			flow: "vm1 inbound tcp 10.0.1.4:123 13.107.21.200:60000", access: model.Allow},
		{name: "subnet NSG only: DenyAllInBound from the Internet", fact: "§3 [S5] default rule DenyAllInBound 65500; §6.2 [D10] ruleName defaultSecurityRules/...",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:123 13.107.21.200:60000",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "NIC NSG only: DenyAllInBound", fact: "§5.1 [D3] a level without an NSG allows; the NIC NSG decides alone",
			nic: "none", flow: "vm1 inbound tcp 10.0.1.4:123 13.107.21.200:60000",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "inbound: subnet allows, NIC denies: denied by the NIC rule", fact: "§5.1 [D3] inbound: subnet NSG first, then NIC NSG; both must allow",
			subnet: allowHTTPS, nic: denyHTTPSNIC, flow: "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:60000",
			access: model.Deny, ruleName: "securityRules/deny-https", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "inbound: subnet denies first, NIC allow never seen", fact: "§5.1 [D3] a subnet-NSG deny means the NIC NSG is never evaluated",
			subnet: "none", nic: allowNIC443, flow: "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:60000",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "inbound: both allow: the NIC NSG's rule is reported", fact: "§5.5 Proposal: the matched rule of the last NSG evaluated (NIC inbound)",
			subnet: allowHTTPS, nic: allowNIC443, flow: "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:60000",
			access: model.Allow, ruleName: "securityRules/allow-443", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "outbound: NIC denies first", fact: "§5.1 [D3] outbound: NIC NSG first; a NIC-NSG deny is final",
			subnet: allowOut443 + denySMTPOut, nic: denySMTPOut, flow: "vm1 outbound tcp 10.0.1.4:50000 13.107.21.200:25",
			access: model.Deny, ruleName: "securityRules/deny-smtp", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "outbound: NIC allows, subnet denies", fact: "§5.1 [D3] 'To deny port 80 from the virtual machine, either, or both of the network security groups must have a rule that denies'",
			subnet: denySMTPOut, nic: "none", flow: "vm1 outbound tcp 10.0.1.4:50000 13.107.21.200:25",
			access: model.Deny, ruleName: "securityRules/deny-smtp", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "outbound: both allow: the subnet NSG's rule is reported", fact: "the last NSG evaluated (subnet outbound)",
			subnet: allowOut443, nic: "none", flow: "vm1 outbound tcp 10.0.1.4:50000 13.107.21.200:443",
			access: model.Allow, ruleName: "securityRules/allow-out-443", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},

		// Default rules (§3 [S5]).
		{name: "AllowVnetInBound within the VNet", fact: "§3 [S5] AllowVnetInBound VirtualNetwork→VirtualNetwork 65000; §4.2 [D4] VNet address space",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:22 10.0.9.9:50000",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "AllowVnetOutBound within the VNet", fact: "§3 [S5] AllowVnetOutBound",
			subnet: "none", flow: "vm1 outbound udp 10.0.1.4:* 10.0.200.1:53",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetOutBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "AllowInternetOutBound to a public address", fact: "§3 [S5]; §6.3 [D8] outbound to 13.107.21.200:80 allowed by AllowInternetOutBound",
			nic: "none", flow: "vm1 outbound tcp 10.0.1.4:60000 13.107.21.200:80",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowInternetOutBound", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "DenyAllOutBound to private space outside the VNet", fact: "§11.5 [D8] RFC 1918 outside the VNet is neither VirtualNetwork nor Internet → DenyAllOutBound",
			nic: "none", flow: "vm1 outbound tcp 10.0.1.4:60000 172.31.0.100:80",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllOutBound", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "DenyAllInBound from private space outside the VNet", fact: "§6.3 [D8] inbound from 172.31.0.100 denied",
			nic: "none", flow: "vm1 inbound tcp 10.0.1.4:80 172.31.0.100:60000",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},

		// VirtualNetwork (§4.2).
		{name: "VirtualNetwork includes a directly peered VNet", fact: "§4.2 [D4][D13] peered virtual networks are in VirtualNetwork",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:22 10.2.0.4:50000",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "peering is not transitive", fact: "peering is not transitive (hub↔spoke↔leaf: leaf is not in hub's VirtualNetwork)",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:22 10.3.0.4:50000",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "a peering declared on the other side counts", fact: "declaring one side of a peering is enough (spoke declares leaf; leaf's NIC sees spoke)",
			subnet: "none", extra: "[[vm]]\nname = \"leaf-vm\"\n[[vm.nic]]\nname = \"leaf-nic\"\nprivate_ip = \"10.3.0.4\"\nsubnet = \"leaf/x\"\nnsg = \"subnet-nsg\"\n",
			flow:   "leaf-vm inbound tcp 10.3.0.4:22 10.2.0.4:50000",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "networkInterface/leaf-nic"},
		{name: "VirtualNetwork includes the VNet's on-premises prefixes", fact: "§4.2 [D4] 'all connected on-premises address spaces'",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:22 192.168.7.7:50000",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "VirtualNetwork includes a peered VNet's on-premises prefixes", fact: "onprem_prefixes of peered VNets",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:22 172.30.1.1:50000",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "VirtualNetwork includes 168.63.129.16", fact: "§4.2 [I7] VirtualNetwork includes 168.63.129.16/32",
			subnet: "none", flow: "vm1 inbound tcp 10.0.1.4:80 168.63.129.16:50000",
			access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "deny VirtualNetwork above 65001 also blocks load-balancer probes", fact: "§11.6 [I7] a high-priority deny from VirtualNetwork kills LB health probes",
			subnet: rule("name=deny-vnet", "priority=4000", "direction=Inbound", "access=Deny", "protocol=*", "source=VirtualNetwork", "destination=*"),
			flow:   "vm1 inbound tcp 10.0.1.4:80 168.63.129.16:50000", access: model.Deny, ruleName: "securityRules/deny-vnet", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "forced tunnel: VirtualNetwork becomes everything, deny-Internet never matches", fact: "§4.2, §11.7 [I6] a 0.0.0.0/0 UDR makes VirtualNetwork 0.0.0.0/0; AllowVnetOutBound allows Internet traffic",
			flow: "tunnel-vm outbound tcp 10.0.3.4:50000 13.107.21.200:443", access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetOutBound", nsg: "tunnel-nsg", appliedTo: "subnet/hub/tunnel"},
		{name: "UDR prefixes extend VirtualNetwork for that subnet", fact: "§4.2 [I8] route table prefixes are in VirtualNetwork for NICs in that subnet",
			flow: "vm1 outbound tcp 10.0.4.4:50000 172.20.1.1:443 nic1b", access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetOutBound", nsg: "tunnel-nsg", appliedTo: "subnet/hub/udr"},
		{name: "UDR prefixes do not extend VirtualNetwork for other subnets", fact: "§4.2 [I8] only NICs in the subnet with the route table",
			nic: "none", flow: "vm1 outbound tcp 10.0.1.4:50000 172.20.1.1:443 nic1",
			access: model.Deny, ruleName: "defaultSecurityRules/DenyAllOutBound", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},

		// Internet, AzureLoadBalancer, custom tags (§4.3-4.5).
		{name: "Internet matches a public address", fact: "§4.4 [D4] Internet = address space outside the VNet reachable by the public internet",
			subnet: rule("name=web-in", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=Internet", "destination=*", "destination_ports=443"),
			flow:   "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:60000", access: model.Allow, ruleName: "securityRules/web-in", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "Internet excludes private space outside the VNet", fact: "§4.4 [D8] private space outside the VNet is not Internet",
			subnet: rule("name=web-in", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=Internet", "destination=*", "destination_ports=443"),
			flow:   "vm1 inbound tcp 10.0.1.4:443 100.64.0.1:60000", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "Internet excludes the VNet's own space", fact: "§4.4 [D4] outside the virtual network",
			subnet: rule("name=deny-internet", "priority=100", "direction=Inbound", "access=Deny", "protocol=*", "source=Internet", "destination=*"),
			flow:   "vm1 inbound tcp 10.0.1.4:443 10.2.0.9:60000", access: model.Allow, ruleName: "defaultSecurityRules/AllowVnetInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "AzureLoadBalancer is 168.63.129.16", fact: "§4.3 [D4] AzureLoadBalancer is the host's virtual IP 168.63.129.16",
			subnet: rule("name=lb", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=AzureLoadBalancer", "destination=*", "destination_ports=80") +
				rule("name=deny-rest", "priority=200", "direction=Inbound", "access=Deny", "protocol=*", "source=*", "destination=*"),
			flow: "vm1 inbound tcp 10.0.1.4:80 168.63.129.16:*", access: model.Allow, ruleName: "securityRules/lb", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "AzureLoadBalancer is not a neighbour of 168.63.129.16", fact: "§4.3 [D13] a single prefix",
			subnet: rule("name=lb", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=AzureLoadBalancer", "destination=*", "destination_ports=80") +
				rule("name=deny-rest", "priority=200", "direction=Inbound", "access=Deny", "protocol=*", "source=*", "destination=*"),
			flow: "vm1 inbound tcp 10.0.1.4:80 168.63.129.17:*", access: model.Deny, ruleName: "securityRules/deny-rest", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "custom service tag matches its prefixes", fact: "§4.5 other tags resolve to published prefix lists, declared in [service_tags]",
			nic: rule("name=storage", "priority=100", "direction=Outbound", "access=Allow", "protocol=Tcp", "source=*", "destination=Storage.WestEurope", "destination_ports=443") +
				rule("name=no-internet", "priority=200", "direction=Outbound", "access=Deny", "protocol=*", "source=*", "destination=Internet"),
			flow: "vm1 outbound tcp 10.0.1.4:50000 20.38.100.1:443", access: model.Allow, ruleName: "securityRules/storage", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "custom service tag does not match outside its prefixes", fact: "§4.5",
			nic: rule("name=storage", "priority=100", "direction=Outbound", "access=Allow", "protocol=Tcp", "source=*", "destination=Storage.WestEurope", "destination_ports=443") +
				rule("name=no-internet", "priority=200", "direction=Outbound", "access=Deny", "protocol=*", "source=*", "destination=Internet"),
			flow: "vm1 outbound tcp 10.0.1.4:50000 20.39.0.1:443", access: model.Deny, ruleName: "securityRules/no-internet", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},

		// ASGs (§4.6).
		{name: "ASG to ASG: members match", fact: "§4.6 [D5] rules with ASGs apply to member NICs",
			subnet: rule("name=app-to-web", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", `source_asgs=["app"]`, `destination_asgs=["web"]`, "destination_ports=8080") +
				rule("name=deny-vnet", "priority=200", "direction=Inbound", "access=Deny", "protocol=*", "source=VirtualNetwork", "destination=*"),
			flow: "vm1 inbound tcp 10.0.1.4:8080 10.0.4.4:50000", access: model.Allow, ruleName: "securityRules/app-to-web", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "ASG: a non-member source does not match", fact: "§4.6 [D5]",
			subnet: rule("name=app-to-web", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", `source_asgs=["app"]`, `destination_asgs=["web"]`, "destination_ports=8080") +
				rule("name=deny-vnet", "priority=200", "direction=Inbound", "access=Deny", "protocol=*", "source=VirtualNetwork", "destination=*"),
			flow: "vm1 inbound tcp 10.0.1.4:8080 10.2.0.5:50000", access: model.Deny, ruleName: "securityRules/deny-vnet", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "ASG membership is per IP configuration", fact: "§1.2 [C3] ASG membership is per IP configuration, not per NIC",
			subnet: rule("name=app-to-web", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", `source_asgs=["app"]`, `destination_asgs=["web"]`, "destination_ports=8080") +
				rule("name=deny-vnet", "priority=200", "direction=Inbound", "access=Deny", "protocol=*", "source=VirtualNetwork", "destination=*"),
			flow: "vm1 inbound tcp 10.0.1.5:8080 10.0.4.4:50000", access: model.Deny, ruleName: "securityRules/deny-vnet", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},

		// Priority, protocol, ports (§5.1, §5.3).
		{name: "lower priority number wins, whatever the file order", fact: "§5.1 [D2] rules are processed in priority order, lower numbers first; processing stops at the first match",
			subnet: rule("name=allow-all-443", "priority=200", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "destination=*", "destination_ports=443") +
				rule("name=deny-bad-net", "priority=100", "direction=Inbound", "access=Deny", "protocol=Tcp", "source=1.2.3.0/24", "destination=*", "destination_ports=443"),
			flow: "vm1 inbound tcp 10.0.1.4:443 1.2.3.4:50000", access: model.Deny, ruleName: "securityRules/deny-bad-net", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "first match by priority: the later allow applies to others", fact: "§5.1 [D2]",
			subnet: rule("name=allow-all-443", "priority=200", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "destination=*", "destination_ports=443") +
				rule("name=deny-bad-net", "priority=100", "direction=Inbound", "access=Deny", "protocol=Tcp", "source=1.2.3.0/24", "destination=*", "destination_ports=443"),
			flow: "vm1 inbound tcp 10.0.1.4:443 1.2.4.4:50000", access: model.Allow, ruleName: "securityRules/allow-all-443", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "port list: single port", fact: "§2.2 [D2] ports: single, range, or a list of both",
			subnet: allowHTTPS, flow: "vm1 inbound tcp 10.0.1.4:443 13.107.21.200:60000", access: model.Allow, ruleName: "securityRules/allow-https", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "port list: range start", fact: "§2.2 [D2]",
			subnet: allowHTTPS, flow: "vm1 inbound tcp 10.0.1.4:8000 13.107.21.200:60000", access: model.Allow, ruleName: "securityRules/allow-https", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "port list: range end", fact: "§2.2 [D2]",
			subnet: allowHTTPS, flow: "vm1 inbound tcp 10.0.1.4:8080 13.107.21.200:60000", access: model.Allow, ruleName: "securityRules/allow-https", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "port list: just past the range", fact: "§2.2 [D2]",
			subnet: allowHTTPS, flow: "vm1 inbound tcp 10.0.1.4:8081 13.107.21.200:60000", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "port list: just before the range", fact: "§2.2 [D2]",
			subnet: allowHTTPS, flow: "vm1 inbound tcp 10.0.1.4:7999 13.107.21.200:60000", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "source and destination port ranges, inbound (PowerShell scenario sr2)", fact: "§5.2 [P2] inbound rule sr2 SourcePortRange 23-45, DestinationPortRange 46-56; RemotePort 40, LocalPort 50 → Allow securityRules/sr2",
			nic:  rule("name=sr2", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "source_ports=23-45", "destination=*", "destination_ports=46-56"),
			flow: "vm1 inbound tcp 10.0.1.4:50 13.107.21.200:40", access: model.Allow, ruleName: "securityRules/sr2", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "inbound source port is the remote port", fact: "§5.2 [P2][S1] inbound: source = remote",
			nic:  rule("name=sr2", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "source_ports=23-45", "destination=*", "destination_ports=46-56"),
			flow: "vm1 inbound tcp 10.0.1.4:40 13.107.21.200:50", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "outbound destination port is the remote port (PowerShell scenario scr1)", fact: "§5.2 [P2] outbound rule scr1 DestinationPortRange 80; RemotePort 80 → Deny securityRules/scr1",
			nic:  rule("name=scr1", "priority=100", "direction=Outbound", "access=Deny", "protocol=Tcp", "source=*", "destination=*", "destination_ports=80"),
			flow: "vm1 outbound tcp 10.0.1.4:6895 12.11.12.14:80", access: model.Deny, ruleName: "securityRules/scr1", nsg: "nic-nsg", appliedTo: "networkInterface/nic1"},
		{name: "protocol mismatch skips the rule", fact: "§5.3 protocol check",
			subnet: allowHTTPS, flow: "vm1 inbound udp 10.0.1.4:443 13.107.21.200:60000", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "protocol * matches UDP", fact: "§5.3 rule * matches any protocol",
			subnet: rule("name=any-53", "priority=100", "direction=Inbound", "access=Allow", "protocol=*", "source=*", "destination=*", "destination_ports=53"),
			flow:   "vm1 inbound udp 10.0.1.4:53 13.107.21.200:60000", access: model.Allow, ruleName: "securityRules/any-53", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "ICMP: ports are ignored", fact: "§5.3 [I9] ICMP has no ports",
			subnet: rule("name=icmp", "priority=100", "direction=Inbound", "access=Allow", "protocol=Icmp", "source=13.0.0.0/8", "destination=*"),
			flow:   "vm1 inbound icmp 10.0.1.4:0 13.107.21.200:0", access: model.Allow, ruleName: "securityRules/icmp", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "ESP matched by a * rule", fact: "§2.1 [S2] protocols Tcp, Udp, Icmp, Esp, *, Ah",
			subnet: rule("name=any-from-peer", "priority=100", "direction=Inbound", "access=Allow", "protocol=*", "source=13.107.21.200", "destination=*"),
			flow:   "vm1 inbound esp 10.0.1.4:0 13.107.21.200:0", access: model.Allow, ruleName: "securityRules/any-from-peer", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "AH not matched by an Esp rule", fact: "§2.1 [S2]",
			subnet: rule("name=esp", "priority=100", "direction=Inbound", "access=Allow", "protocol=Esp", "source=*", "destination=*"),
			flow:   "vm1 inbound ah 10.0.1.4:0 13.107.21.200:0", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "a stopped (still allocated) VM can be checked", fact: "§1.1 [D10] IP flow verify requires that the VM is allocated",
			flow: "stopped-vm inbound tcp 10.0.1.21:22 10.0.1.4:50000", access: model.Allow},

		// Security admin rules (§5.1, §9).
		{name: "admin Deny is final, NSGs not evaluated", fact: "§5.1 [D2][D6] 'Always allow' and 'Deny' admin rules terminate evaluation",
			subnet: rule("name=ssh", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", "source=*", "destination=*", "destination_ports=22"),
			extra:  "[[admin_rule]]\nname = \"no-ssh\"\npriority = 1\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = \"Internet\"\ndestination = \"*\"\ndestination_ports = \"22\"\n",
			flow:   "vm1 inbound tcp 10.0.1.4:22 13.107.21.200:50000", access: model.Deny, ruleName: "securityAdminRules/no-ssh", appliedTo: "virtualNetwork/hub"},
		{name: "admin AlwaysAllow skips the NSGs", fact: "§5.1 [D2][D6] AlwaysAllow terminates evaluation",
			subnet: "none",
			extra:  "[[admin_rule]]\nname = \"monitoring\"\npriority = 5\ndirection = \"Inbound\"\naccess = \"AlwaysAllow\"\nprotocol = \"Tcp\"\nsource = \"13.107.21.200\"\ndestination = \"*\"\ndestination_ports = \"9100\"\n",
			flow:   "vm1 inbound tcp 10.0.1.4:9100 13.107.21.200:50000", access: model.Allow, ruleName: "securityAdminRules/monitoring", appliedTo: "virtualNetwork/hub"},
		{name: "admin Allow continues to the NSGs, which deny", fact: "§5.1 [D2][D6] 'Allow' admin rules continue to the NSGs; [D11] AVNM Allow + NSG Deny → Deny",
			subnet: "none",
			extra:  "[[admin_rule]]\nname = \"allow-9100\"\npriority = 5\ndirection = \"Inbound\"\naccess = \"Allow\"\nprotocol = \"Tcp\"\nsource = \"*\"\ndestination = \"*\"\ndestination_ports = \"9100\"\n",
			flow:   "vm1 inbound tcp 10.0.1.4:9100 13.107.21.200:50000", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "admin Allow with no NSG reports the admin rule", fact: "if no NSG exists, the admin rule that allowed",
			extra: "[[admin_rule]]\nname = \"allow-9100\"\npriority = 5\ndirection = \"Inbound\"\naccess = \"Allow\"\nprotocol = \"Tcp\"\nsource = \"*\"\ndestination = \"*\"\ndestination_ports = \"9100\"\n",
			flow:  "vm1 inbound tcp 10.0.1.4:9100 13.107.21.200:50000", access: model.Allow, ruleName: "securityAdminRules/allow-9100", appliedTo: "virtualNetwork/hub"},
		{name: "admin rules apply only to their VNets", fact: "§9 [D6] admin rules apply per VNet",
			subnet: "none",
			extra:  "[[admin_rule]]\nname = \"spoke-only\"\nvnets = [\"spoke\"]\npriority = 5\ndirection = \"Inbound\"\naccess = \"AlwaysAllow\"\nprotocol = \"*\"\nsource = \"*\"\ndestination = \"*\"\n",
			flow:   "vm1 inbound tcp 10.0.1.4:9100 13.107.21.200:50000", access: model.Deny, ruleName: "defaultSecurityRules/DenyAllInBound", nsg: "subnet-nsg", appliedTo: "subnet/hub/web"},
		{name: "admin rules by ascending priority", fact: "§1.6 [L1] lower number = higher priority",
			extra: "[[admin_rule]]\nname = \"later\"\npriority = 50\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"*\"\nsource = \"*\"\ndestination = \"*\"\n" +
				"[[admin_rule]]\nname = \"first\"\npriority = 10\ndirection = \"Inbound\"\naccess = \"AlwaysAllow\"\nprotocol = \"Tcp\"\nsource = \"*\"\ndestination = \"*\"\n",
			flow: "vm1 inbound tcp 10.0.1.4:1 13.107.21.200:50000", access: model.Allow, ruleName: "securityAdminRules/first", appliedTo: "virtualNetwork/hub"},
		{name: "admin rule sides may mix service tags and prefixes", fact: "§1.6 [S9][L1] admin rule sources/destinations are lists of IPPrefix and ServiceTag items",
			extra: "[[admin_rule]]\nname = \"mixed\"\npriority = 10\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = [\"Storage.WestEurope\", \"Internet\", \"172.16.0.0/12\"]\ndestination = \"*\"\n",
			flow:  "vm1 inbound tcp 10.0.1.4:22 13.107.21.200:50000", access: model.Deny, ruleName: "securityAdminRules/mixed", appliedTo: "virtualNetwork/hub"},
		{name: "a mixed admin side: the prefix item", fact: "§1.6 [S9][L1]",
			extra: "[[admin_rule]]\nname = \"mixed\"\npriority = 10\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = [\"Storage.WestEurope\", \"Internet\", \"172.16.0.0/12\"]\ndestination = \"*\"\n",
			flow:  "vm1 inbound tcp 10.0.1.4:22 172.16.5.5:50000", access: model.Deny, ruleName: "securityAdminRules/mixed", appliedTo: "virtualNetwork/hub"},
		{name: "a mixed admin side: none of its items", fact: "§1.6 [S9][L1]",
			extra: "[[admin_rule]]\nname = \"mixed\"\npriority = 10\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource = [\"Storage.WestEurope\", \"Internet\", \"172.16.0.0/12\"]\ndestination = \"*\"\n",
			flow:  "vm1 inbound tcp 10.0.1.4:22 10.0.5.5:50000", access: model.Allow},
		{name: "admin rules are direction-filtered", fact: "admin rules of the NIC's VNet, direction-filtered",
			extra: "[[admin_rule]]\nname = \"deny-out\"\npriority = 10\ndirection = \"Outbound\"\naccess = \"Deny\"\nprotocol = \"*\"\nsource = \"*\"\ndestination = \"*\"\n",
			flow:  "vm1 inbound tcp 10.0.1.4:1 13.107.21.200:50000", access: model.Allow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := estate(t, c.subnet, c.nic, c.extra)
			f := flow(t, c.flow)
			res, err := e.Verify(f)
			if err != nil {
				t.Fatalf("%s: Verify: %v", c.fact, err)
			}
			if res.Access != c.access || res.RuleName() != c.ruleName {
				t.Errorf("%s\n got %s %q, want %s %q\n%s", c.fact, res.Access, res.RuleName(), c.access, c.ruleName, res.Summary())
			}
			gotNSG, gotApplied := "", ""
			if res.Layer != nil {
				gotApplied = res.Layer.AppliedTo
				if res.Layer.NSG != nil {
					gotNSG = res.Layer.NSG.Name
				}
			}
			if gotNSG != c.nsg || gotApplied != c.appliedTo {
				t.Errorf("%s\n deciding layer %q on %q, want %q on %q", c.fact, gotNSG, gotApplied, c.nsg, c.appliedTo)
			}
			v, err := e.Decide(f)
			if err != nil || v != res.Verdict {
				t.Errorf("Decide disagrees with Verify: %+v, %v vs %+v", v, err, res.Verdict)
			}
		})
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
