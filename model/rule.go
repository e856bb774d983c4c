package model

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// readRule reads the fields an NSG rule and an admin rule share. ok says whether priority and
// direction are valid (so that conflicts can be checked).
func (l *loader) readRule(t *tab, name string, named, admin bool) (r *Rule, ok bool) {
	r = &Rule{Name: name, Kind: CustomRule, Pos: t.hpos()}
	if admin {
		r.Kind = AdminRuleKind
	}
	if named && !ValidRuleName(name) {
		t.errf("name", "name %q: invalid rule name; use up to 80 characters: letters, digits, '_', '.' and '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'", name)
	}
	prioOK, dirOK := false, false
	lo, prioWant, accessWant := int64(100), "an integer 100..4096", "Allow or Deny"
	if admin {
		lo, prioWant, accessWant = 1, "an integer 1..4096", "Allow, AlwaysAllow or Deny"
	}
	if p, found := t.integer("priority", prioWant); found {
		if p < lo || p > 4096 {
			t.errf("priority", "priority %d: must be between %d and 4096", p, lo)
		} else {
			r.Priority, prioOK = int(p), true
		}
	}
	if s, found := t.str("direction", "Inbound or Outbound"); found {
		d, err := ParseDirection(s)
		if err != nil {
			t.errf("direction", "%v", err)
		} else {
			r.Direction, dirOK = d, true
		}
	}
	if s, found := t.str("access", accessWant); found {
		a, err := ParseAccess(s, admin)
		if err != nil {
			t.errf("access", "%v", err)
		} else {
			r.Access = a
		}
	}
	protoOK := false
	if s, found := t.str("protocol", "Tcp, Udp, Icmp, Esp, Ah or *"); found {
		p, err := ParseProtocol(s)
		if err != nil {
			t.errf("protocol", "%v", err)
		} else {
			r.Protocol, protoOK = p, true
		}
	}
	if d, found := t.str("description", optional); found {
		if n := utf8.RuneCountInString(d); n > MaxDescription {
			t.errf("description", "description: %d characters; Azure allows at most %d", n, MaxDescription)
		}
		r.Description = d
	}
	r.Source = l.readSide(t, sourceKeys, admin)
	r.Destination = l.readSide(t, destinationKeys, admin)
	if len(r.Source.ASGs) > 0 && len(r.Destination.ASGs) > 0 {
		l.bothASGs = append(l.bothASGs, bothASG{r, t})
	}
	if protoOK && r.Protocol != AnyProtocol && !r.Protocol.HasPorts() {
		for _, key := range []string{"source_ports", "destination_ports"} {
			if !t.has(key) {
				continue
			}
			side := r.Source
			if key == "destination_ports" {
				side = r.Destination
			}
			if len(side.Ports) == 1 && side.Ports[0] == AllPorts() {
				continue
			}
			t.warnf(key, "%s %s: protocol %s has no ports, so Azure ignores them; use * or leave %s out", key, FormatPorts(side.Ports), r.Protocol, key)
		}
	}
	return r, prioOK && dirOK
}

// sideKeys are the keys of one side of a rule.
type sideKeys struct{ addr, asgs, ports string }

var (
	sourceKeys      = sideKeys{"source", "source_asgs", "source_ports"}
	destinationKeys = sideKeys{"destination", "destination_asgs", "destination_ports"}
)

// readSide reads one side of a rule: addresses (key side) or ASGs (side_asgs), and ports.
func (l *loader) readSide(t *tab, keys sideKeys, admin bool) Side {
	addrKey, asgKey, portKey := keys.addr, keys.asgs, keys.ports
	var s Side
	s.Ports = l.readPorts(t, portKey)

	items, list, hasAddr, addrOK := t.strOrStrs(addrKey)
	if hasAddr && addrOK {
		s.Addresses = make([]Address, 0, len(items))
		for _, it := range items {
			a, err := ParseAddress(it, l.resolveTag)
			if err != nil {
				t.errf(addrKey, "%s", l.addressError(addrKey, it, err))
				addrOK = false
				continue
			}
			s.Addresses = append(s.Addresses, a)
		}
		if len(items) > 1 {
			for _, a := range s.Addresses {
				if a.Kind == AnyAddress || (a.Kind == TagAddress && !admin) {
					t.errf(addrKey, "%s: %q must stand alone; a service tag or * cannot be combined with other addresses (Azure accepts tags and * only in the single-value field)", addrKey, a.String())
					addrOK = false
					break
				}
			}
		}
		if len(items) == 0 && list {
			hasAddr = false // an empty array counts as not set, as in Azure
		}
		if !admin && len(items) > MaxPrefixesPerSide {
			t.errf(addrKey, "%s: %s addresses; Azure allows at most %s IP addresses and ranges per side of a rule (split the rule, or use wider CIDRs)", addrKey, formatCount(len(items)), formatCount(MaxPrefixesPerSide))
		}
	}

	var asgNames []string
	hasASG, asgOK := false, true
	if !admin {
		asgNames, hasASG, asgOK = t.strs(asgKey)
		if hasASG && len(asgNames) == 0 {
			hasASG = false
		}
		if hasASG && len(asgNames) > MaxASGsPerSide {
			t.errf(asgKey, "%s: %d ASGs; Azure allows at most %d per side of a rule", asgKey, len(asgNames), MaxASGsPerSide)
		}
		if hasASG {
			s.ASGs = make([]*ASG, 0, len(asgNames))
		}
		for _, n := range asgNames {
			a, found := l.asgs.byName[n]
			if !found {
				t.errf(asgKey, "%s: %s", asgKey, l.noSuch("asg", n, l.asgs.names))
				asgOK = false
				continue
			}
			if slices.Contains(s.ASGs, a) {
				continue
			}
			s.ASGs = append(s.ASGs, a)
			l.asgRefs = append(l.asgRefs, asgRef{asg: a, at: at{t, asgKey}})
		}
	}

	switch {
	case hasAddr && hasASG:
		t.errf(asgKey, "%s and %s are exclusive: set exactly one (Azure: a rule specifies exactly one of address prefixes and application security groups per side)", addrKey, asgKey)
		s.ASGs = nil
	case !hasAddr && !hasASG && addrOK && asgOK:
		if admin {
			t.missing(addrKey, "*, IPv4 addresses or CIDRs, or a service tag")
		} else {
			l.errAt(t.hpos(), t.resource(), fmt.Sprintf("missing %s: set %s (*, IPv4 addresses or CIDRs, or a service tag) or %s (ASG names)", addrKey, addrKey, asgKey))
		}
	}
	return s
}

// addressError words a failed address: the key, then what is wrong, with a close tag suggested.
func (l *loader) addressError(key, item string, err error) string {
	s := strings.TrimSpace(item)
	if s == "" {
		return key + ": empty address; use *, an IPv4 address or CIDR, or a service tag"
	}
	if looksLikeTag(s) && !strings.EqualFold(s, "any") && !strings.EqualFold(s, "all") {
		if sug := l.suggest(s, l.tagNames); sug != "" {
			return fmt.Sprintf("%s %q: unknown service tag; did you mean %q?", key, s, sug)
		}
	}
	return key + " " + err.Error()
}

func looksLikeTag(s string) bool {
	c := s[0]
	return (c < '0' || c > '9') && !strings.ContainsAny(s, ":/")
}

// readPorts reads a port list: a string or an integer, or an array of them. Absent means *.
func (l *loader) readPorts(t *tab, key string) []PortRange {
	v, ok := t.m[key]
	if !ok {
		return []PortRange{AllPorts()}
	}
	one := func(e any) (PortRange, bool) {
		switch x := e.(type) {
		case string:
			r, err := ParsePortRange(x)
			if err != nil {
				msg := key + " " + err.Error()
				if strings.Contains(x, ",") {
					msg += fmt.Sprintf("; for several ports write an array, like %s = [\"80\", \"443\"]", key)
				}
				t.errf(key, "%s", msg)
				return PortRange{}, false
			}
			return r, true
		case int64:
			if x < 0 || x > 65535 {
				t.errf(key, "%s %d: port out of range 0..65535", key, x)
				return PortRange{}, false
			}
			return PortRange{uint16(x), uint16(x)}, true
		}
		t.errf(key, "%s: expected a port (\"*\", \"N\", \"N-M\" or an integer), got %s", key, describe(e))
		return PortRange{}, false
	}
	var out []PortRange
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			t.errf(key, "%s: empty; leave %s out or use \"*\" for every port", key, key)
			return []PortRange{AllPorts()}
		}
		out = make([]PortRange, 0, len(x))
		for _, e := range x {
			if r, ok := one(e); ok {
				out = append(out, r)
			}
		}
	default:
		if r, ok := one(v); ok {
			out = []PortRange{r}
		}
	}
	if len(out) == 0 {
		return []PortRange{AllPorts()}
	}
	return out
}
