package importer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"ipflow/model"
)

// builtinTags are the tags ipflow knows without a [service_tags] entry, with the legacy spellings
// that older API versions and effective-rule views print.
var builtinTags = map[string]string{
	"virtualnetwork":     "VirtualNetwork",
	"virtual_network":    "VirtualNetwork",
	"internet":           "Internet",
	"azureloadbalancer":  "AzureLoadBalancer",
	"azure_loadbalancer": "AzureLoadBalancer",
}

// prefixKind is what one address value of a rule, address space, subnet or route is.
type prefixKind uint8

const (
	pInvalid prefixKind = iota
	pStar
	pV4
	pV6
	pTag
)

// parsePrefix reads an address value: *, an IPv4 or IPv6 address or CIDR, or something that
// looks like a service tag name. For IPv4 it returns the canonical text; masked reports that host
// bits were set and cleared (10.0.0.5/24 -> 10.0.0.0/24).
func parsePrefix(s string) (kind prefixKind, canon string, masked bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "*":
		return pStar, "*", false
	case s == "":
		return pInvalid, "", false
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return pInvalid, "", false
		}
		if !p.Addr().Is4() {
			return pV6, "", false
		}
		m := p.Masked()
		if m.Bits() == 32 {
			return pV4, m.Addr().String(), m != p
		}
		return pV4, m.String(), m != p
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		if a.Is4() {
			return pV4, a.String(), false
		}
		return pV6, "", false
	}
	if isTagName(s) {
		return pTag, s, false
	}
	return pInvalid, "", false
}

// isTagName: service tag names are letters, digits, '.', '-' and '_', starting with a letter
// (Storage, Sql.WestEurope, AzureFrontDoor.Backend, ...), as the loader accepts them.
func isTagName(s string) bool { return len(s) <= 256 && model.ValidTagName(s) }

// parseCIDR reads an address space, subnet or route prefix: an IPv4 CIDR (host bits cleared), or
// reports IPv6 or an invalid value.
func parseCIDR(s string) (prefixKind, string, bool) {
	k, canon, masked := parsePrefix(s)
	if k == pV4 && !strings.Contains(canon, "/") {
		canon += "/32"
	}
	if k == pStar || k == pTag {
		return pInvalid, "", false
	}
	return k, canon, masked
}

// normPorts reads a port side: *, N or N-M (0..65535, low <= high), singular or plural form.
// It returns the canonical list ("*" alone if any item is *), or the first bad value.
func normPorts(single string, plural []string) (ports []string, bad string, missing bool) {
	vals := make([]string, 0, 1+len(plural))
	if s := strings.TrimSpace(single); s != "" {
		vals = append(vals, s)
	}
	for _, p := range plural {
		if p = strings.TrimSpace(p); p != "" {
			vals = append(vals, p)
		}
	}
	if len(vals) == 0 {
		return []string{"*"}, "", true
	}
	seen := make(map[string]bool, len(vals))
	for _, v := range vals {
		c, ok := normPort(v)
		if !ok {
			return nil, v, false
		}
		if c == "*" {
			return []string{"*"}, "", false
		}
		if !seen[c] {
			seen[c] = true
			ports = append(ports, c)
		}
	}
	return ports, "", false
}

// normPort reads one port item with the loader's own parser, so that the import accepts exactly
// what the fixture will.
func normPort(v string) (string, bool) {
	r, err := model.ParsePortRange(v)
	if err != nil {
		return "", false
	}
	return r.String(), true
}

// normProtocol maps Azure's protocol values to the fixture's: Tcp, Udp, Icmp, Esp, Ah, *
// (effective-rule views print All for *).
func normProtocol(s string) (string, bool) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return "*", true
	}
	p, err := model.ParseProtocol(strings.TrimSpace(s))
	return p.String(), err == nil
}

func normAccess(s string) (string, bool) {
	a, err := model.ParseAccess(strings.TrimSpace(s), false)
	return a.String(), err == nil
}

func normDirection(s string) (string, bool) {
	d, err := model.ParseDirection(strings.TrimSpace(s))
	return d.String(), err == nil
}

// normPowerState maps what az vm list -d prints ("VM running") and instance-view codes
// ("PowerState/running") to the fixture's power_state.
func normPowerState(s string) (string, bool) {
	p, err := model.ParsePowerState(s)
	return p.String(), err == nil
}

// ruleNameOK is Azure's rule for security rule names, as the loader checks it.
func ruleNameOK(s string) bool { return model.ValidRuleName(s) }

// fixRuleName makes a name that follows Azure's rule: other characters become '_', and it is cut
// to 80 characters.
func fixRuleName(s string) string {
	out := make([]byte, 0, min(len(s), 80))
	for _, r := range s {
		if len(out) == 80 {
			break
		}
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			out = append(out, byte(r))
		} else {
			out = append(out, '_')
		}
	}
	if len(out) == 0 {
		return "rule"
	}
	if c := out[0]; c == '.' || c == '-' {
		out[0] = '_'
	}
	if c := out[len(out)-1]; c == '.' || c == '-' {
		out[len(out)-1] = '_'
	}
	return string(out)
}

// quoteList renders values for a warning: "a", "b".
func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
