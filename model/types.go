// Package model holds ipflow's view of an Azure environment: VNets, subnets, NSGs, ASGs, VMs, NICs
// and Virtual Network Manager admin rules, decoded from TOML fixtures, validated and linked.
//
// Values are built once by Load and never change afterwards; every reference between resources
// is a resolved pointer, so nothing downstream looks a name up again.
package model

import (
	"net/netip"
	"strconv"
)

// Pos is where a resource was defined: the fixture file and, when known, the line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line > 0:
		return Printable(p.File) + ":" + strconv.Itoa(p.Line)
	}
	return Printable(p.File)
}

// Environment is a whole loaded estate.
type Environment struct {
	Name        string
	Description string
	Files       []string // the fixture files it was loaded from, in load order

	// ServiceTags are the tags declared in [service_tags], beyond the built-in ones.
	ServiceTags map[string][]netip.Prefix

	VNets      []*VNet
	NSGs       []*NSG
	ASGs       []*ASG
	VMs        []*VM
	AdminRules []*AdminRule

	// Warnings are problems worth showing that do not stop evaluation.
	Warnings []Issue
}

// VNet is a virtual network.
type VNet struct {
	Name         string
	AddressSpace []netip.Prefix
	// Peers are the VNets with a connected peering to this one, declared on either side.
	Peers          []*VNet
	OnPremPrefixes []netip.Prefix
	Subnets        []*Subnet
	Pos            Pos
}

// Subnet is a subnet of a VNet.
type Subnet struct {
	Name   string
	VNet   *VNet
	Prefix netip.Prefix
	NSG    *NSG           // nil when no NSG is associated
	Routes []netip.Prefix // destination prefixes of user-defined routes
	Pos    Pos
}

// Path is the subnet's fixture reference, VNET/SUBNET.
func (s *Subnet) Path() string { return s.VNet.Name + "/" + s.Name }

// NSG is a network security group. Rules holds the custom rules as written; the six default
// rules every NSG has are DefaultRules().
type NSG struct {
	Name  string
	Rules []*Rule
	// ResourceGroup is the Azure resource group, when the fixture says (import records it);
	// az commands that change the NSG name it.
	ResourceGroup string
	Pos           Pos
}

// ASG is an application security group; its members are IP configurations.
type ASG struct {
	Name    string
	Members []*IPConfig
	Pos     Pos
}

// VM is a virtual machine.
type VM struct {
	Name       string
	PowerState PowerState
	NICs       []*NIC
	Pos        Pos
}

// PrimaryNIC is the NIC marked primary, or the first one.
func (vm *VM) PrimaryNIC() *NIC {
	for _, n := range vm.NICs {
		if n.Primary {
			return n
		}
	}
	if len(vm.NICs) > 0 {
		return vm.NICs[0]
	}
	return nil
}

// NIC is a network interface of a VM.
type NIC struct {
	Name         string
	VM           *VM
	NSG          *NSG // nil when no NSG is associated
	Primary      bool
	IPForwarding bool
	IPConfigs    []*IPConfig
	Pos          Pos
}

// PrimaryIPConfig is the IP configuration marked primary, or the first one.
func (n *NIC) PrimaryIPConfig() *IPConfig {
	for _, c := range n.IPConfigs {
		if c.Primary {
			return c
		}
	}
	if len(n.IPConfigs) > 0 {
		return n.IPConfigs[0]
	}
	return nil
}

// IPConfig is one IP configuration of a NIC. ASG membership is per IP configuration, as in Azure.
type IPConfig struct {
	Name      string
	NIC       *NIC
	PrivateIP netip.Addr
	Subnet    *Subnet
	ASGs      []*ASG
	Primary   bool
}

// RuleKind tells custom NSG rules, Azure's default NSG rules and admin rules apart.
type RuleKind uint8

const (
	CustomRule RuleKind = iota
	DefaultRule
	AdminRuleKind
)

// Rule is a security rule: a custom or default NSG rule, or the rule part of an admin rule.
type Rule struct {
	Name        string
	Kind        RuleKind
	Priority    int
	Direction   Direction
	Access      Access
	Protocol    Protocol
	Source      Side
	Destination Side
	Description string
	Pos         Pos
}

// ID is the rule's name as Azure reports it: securityRules/NAME, defaultSecurityRules/NAME or
// securityAdminRules/NAME.
func (r *Rule) ID() string {
	switch r.Kind {
	case DefaultRule:
		return "defaultSecurityRules/" + r.Name
	case AdminRuleKind:
		return "securityAdminRules/" + r.Name
	}
	return "securityRules/" + r.Name
}

// Side is one side (source or destination) of a rule: addresses or ASGs, and ports.
// Exactly one of Addresses and ASGs is non-empty; Ports is never empty (* is 0-65535).
type Side struct {
	Addresses []Address
	ASGs      []*ASG
	Ports     []PortRange
}

// AdminRule is an Azure Virtual Network Manager security admin rule.
type AdminRule struct {
	Rule
	// VNets are the VNets it applies to; nil means every VNet.
	VNets []*VNet
	// ResourceGroup is the resource group of its network manager configuration, when known.
	ResourceGroup string
}

// AppliesTo reports whether the admin rule applies to VNet v.
func (a *AdminRule) AppliesTo(v *VNet) bool {
	if a.VNets == nil {
		return true
	}
	for _, x := range a.VNets {
		if x == v {
			return true
		}
	}
	return false
}
