package model

import (
	"fmt"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of ports. * is 0-65535.
type PortRange struct{ Lo, Hi uint16 }

// AllPorts is *: every port.
func AllPorts() PortRange { return PortRange{0, 65535} }

func (r PortRange) String() string {
	switch {
	case r == AllPorts():
		return "*"
	case r.Lo == r.Hi:
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// Contains reports whether port p is in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// ParsePortRange parses *, N or N-M with 0 <= N <= M <= 65535.
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return AllPorts(), nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parsePort(lo, s)
	if err != nil {
		return PortRange{}, err
	}
	if !isRange {
		return PortRange{a, a}, nil
	}
	b, err := parsePort(hi, s)
	if err != nil {
		return PortRange{}, err
	}
	if a > b {
		return PortRange{}, fmt.Errorf("%q: range start %d is above its end %d", s, a, b)
	}
	return PortRange{a, b}, nil
}

func parsePort(s, whole string) (uint16, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 5 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		if strings.EqualFold(whole, "any") {
			return 0, fmt.Errorf("%q is not a port: use * for every port", whole)
		}
		return 0, fmt.Errorf("%q: not a port; use *, N or N-M with ports 0..65535", whole)
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, fmt.Errorf("%q: port out of range 0..65535", whole)
	}
	return uint16(n), nil
}

// FormatPorts writes a port list as Azure's portal does: "443, 8000-8080".
func FormatPorts(rs []PortRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}
