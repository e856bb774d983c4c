package model

// defaultRules are Azure's six default security rules with the API's exact names
// (as the REST API's Default Security Rules - List returns them).
var defaultRules = func() []*Rule {
	tag := func(t string) Side {
		return Side{Addresses: []Address{{Kind: TagAddress, Tag: t}}, Ports: []PortRange{AllPorts()}}
	}
	any := Side{Addresses: []Address{{Kind: AnyAddress}}, Ports: []PortRange{AllPorts()}}
	mk := func(name string, d Direction, prio int, src, dst Side, a Access, desc string) *Rule {
		return &Rule{Name: name, Kind: DefaultRule, Priority: prio, Direction: d, Access: a,
			Protocol: AnyProtocol, Source: src, Destination: dst, Description: desc}
	}
	return []*Rule{
		mk("AllowVnetInBound", Inbound, 65000, tag(TagVirtualNetwork), tag(TagVirtualNetwork), Allow, "Allow inbound traffic from all VMs in VNET"),
		mk("AllowAzureLoadBalancerInBound", Inbound, 65001, tag(TagAzureLoadBalancer), any, Allow, "Allow inbound traffic from azure load balancer"),
		mk("DenyAllInBound", Inbound, 65500, any, any, Deny, "Deny all inbound traffic"),
		mk("AllowVnetOutBound", Outbound, 65000, tag(TagVirtualNetwork), tag(TagVirtualNetwork), Allow, "Allow outbound traffic from all VMs to all VMs in VNET"),
		mk("AllowInternetOutBound", Outbound, 65001, any, tag(TagInternet), Allow, "Allow outbound traffic from all VMs to Internet"),
		mk("DenyAllOutBound", Outbound, 65500, any, any, Deny, "Deny all outbound traffic"),
	}
}()

// DefaultRules returns Azure's six default rules, which every NSG has. The rules are shared:
// callers must not modify them.
func DefaultRules() []*Rule { return defaultRules }
