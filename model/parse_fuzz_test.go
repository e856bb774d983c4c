package model

import (
	"strings"
	"testing"
)

// FuzzParseAddress: any accepted address prints back to something that parses to the same value.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"*", "10.0.0.0/16", "10.0.1.4", "VirtualNetwork", "internet", "any", "10.0.1.5/24", "::1", "fe80::/10", "1.2.3.4/33", "Storage.WestEurope", " 10.0.0.1 ", "010.0.0.1"} {
		f.Add(s)
	}
	tags := func(s string) (string, bool) {
		if t, ok := BuiltinTag(s); ok {
			return t, true
		}
		if strings.EqualFold(s, "Storage.WestEurope") {
			return "Storage.WestEurope", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s, tags)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if a.Kind == PrefixAddress && (!a.Prefix.Addr().Is4() || a.Prefix.Masked() != a.Prefix) {
			t.Fatalf("%q accepted as %v", s, a.Prefix)
		}
		b, err := ParseAddress(a.String(), tags)
		if err != nil || b != a {
			t.Fatalf("%q → %v → %q → %v, %v", s, a, a.String(), b, err)
		}
	})
}

// FuzzParsePortRange: accepted ranges are ordered and print back to the same range.
func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"*", "0", "65535", "443", "8000-8080", "80-79", "70000", "-1", "1-", "any", " 22 ", "00022"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePortRange(s)
		if err != nil {
			return
		}
		if r.Lo > r.Hi {
			t.Fatalf("%q accepted as %d-%d", s, r.Lo, r.Hi)
		}
		back, err := ParsePortRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%q → %v → %q → %v, %v", s, r, r.String(), back, err)
		}
	})
}
