package model

import (
	"fmt"
	"net/netip"
	"strings"
)

// Built-in service tags, in Azure's spelling.
const (
	TagVirtualNetwork    = "VirtualNetwork"
	TagInternet          = "Internet"
	TagAzureLoadBalancer = "AzureLoadBalancer"
)

// AzurePlatformIP is the virtual IP of the Azure host (DNS, DHCP, health probes, WireServer).
func AzurePlatformIP() netip.Addr { return netip.AddrFrom4([4]byte{168, 63, 129, 16}) }

// AzureIMDSIP is the Instance Metadata Service address.
func AzureIMDSIP() netip.Addr { return netip.AddrFrom4([4]byte{169, 254, 169, 254}) }

// AddressKind says what an Address holds.
type AddressKind uint8

const (
	AnyAddress    AddressKind = iota // *
	PrefixAddress                    // an IPv4 address or CIDR
	TagAddress                       // a service tag
)

// Address is one item of a rule side's address list.
type Address struct {
	Kind   AddressKind
	Prefix netip.Prefix // for PrefixAddress; a single address is a /32
	Tag    string       // for TagAddress, in canonical spelling
}

func (a Address) String() string {
	switch a.Kind {
	case PrefixAddress:
		if a.Prefix.Bits() == 32 {
			return a.Prefix.Addr().String()
		}
		return a.Prefix.String()
	case TagAddress:
		return a.Tag
	}
	return "*"
}

// ParsePrefix parses an IPv4 address (as a /32) or an IPv4 CIDR whose host bits are zero.
// Errors say what would be valid.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			// Only an IPv6 address is IPv6: 10.0.0.1:80/24 is a mistake, not an IPv6 CIDR.
			if addr, _, _ := strings.Cut(s, "/"); isIPv6(addr) {
				return netip.Prefix{}, fmt.Errorf("%q: IPv6 is not supported yet", s)
			}
			return netip.Prefix{}, fmt.Errorf("%q: not an IPv4 CIDR (like 10.0.0.0/16)", s)
		}
		if !p.Addr().Is4() {
			return netip.Prefix{}, fmt.Errorf("%q: IPv6 is not supported yet", s)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%q: host bits are set; the network address is %s", s, m)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: not an IPv4 address or CIDR (like 10.0.1.4 or 10.0.0.0/16)", s)
	}
	if !a.Is4() {
		return netip.Prefix{}, fmt.Errorf("%q: IPv6 is not supported yet", s)
	}
	return netip.PrefixFrom(a, 32), nil
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// ParseCIDR parses an IPv4 CIDR (the form an address space, subnet or route must have).
func ParseCIDR(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
			return netip.Prefix{}, fmt.Errorf("%q: IPv6 is not supported yet", s)
		}
		return netip.Prefix{}, fmt.Errorf("%q: not an IPv4 CIDR (like 10.0.0.0/16)", s)
	}
	return ParsePrefix(s)
}

// ParseIP parses a single IPv4 address.
func ParseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: not an IPv4 address (like 10.0.1.4)", s)
	}
	if !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q: IPv6 is not supported yet", s)
	}
	return a, nil
}

// TagResolver finds the canonical spelling of a service tag, or reports that it is unknown.
type TagResolver func(name string) (canonical string, ok bool)

// BuiltinTag returns the canonical spelling of a built-in tag, matched case-insensitively.
func BuiltinTag(name string) (string, bool) {
	for _, t := range []string{TagVirtualNetwork, TagInternet, TagAzureLoadBalancer} {
		if strings.EqualFold(name, t) {
			return t, true
		}
	}
	return "", false
}

// ParseAddress parses one address item of a rule: *, an IPv4 address or CIDR, or a service tag
// known to tags.
func ParseAddress(s string, tags TagResolver) (Address, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "*":
		return Address{Kind: AnyAddress}, nil
	case s == "":
		return Address{}, fmt.Errorf("empty address: use *, an IPv4 address or CIDR, or a service tag")
	case strings.EqualFold(s, "any"), strings.EqualFold(s, "all"):
		return Address{}, fmt.Errorf("%q is not an address: use * for every address", s)
	}
	if c := s[0]; (c >= '0' && c <= '9') || strings.Contains(s, ":") || strings.Contains(s, "/") {
		p, err := ParsePrefix(s)
		if err != nil {
			return Address{}, err
		}
		return Address{Kind: PrefixAddress, Prefix: p}, nil
	}
	if tags != nil {
		if t, ok := tags(s); ok {
			return Address{Kind: TagAddress, Tag: t}, nil
		}
	} else if t, ok := BuiltinTag(s); ok {
		return Address{Kind: TagAddress, Tag: t}, nil
	}
	return Address{}, fmt.Errorf("%q: unknown service tag; built-in tags are VirtualNetwork, Internet and AzureLoadBalancer, others must be declared in [service_tags]", s)
}
