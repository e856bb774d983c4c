package flows

import (
	"fmt"
	"unicode/utf8"

	"ipflow/model"
)

// Record writes the flows as a flows file with expect, rule and nsg set from today's verdicts:
// the way to adopt a baseline. Comments of the input are not kept.
func Record(outcomes []Outcome) []byte {
	var b []byte
	str := func(key, val string) {
		b = append(b, key...)
		b = append(b, " = "...)
		b = appendTOMLString(b, val)
		b = append(b, '\n')
	}
	for i, o := range outcomes {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, "[[flow]]\n"...)
		str("name", o.Name)
		str("vm", o.Fields.VM)
		if o.Fields.NIC != "" {
			str("nic", o.Fields.NIC)
		}
		str("direction", o.Fields.Direction)
		str("protocol", o.Fields.Protocol)
		str("local", o.Fields.Local)
		str("remote", o.Fields.Remote)
		if o.Result.Access == model.Deny {
			str("expect", "deny")
		} else {
			str("expect", "allow")
		}
		if o.Result.Rule != nil {
			str("rule", o.Result.RuleName())
		}
		if n := nsgName(o.Result); n != "" {
			str("nsg", n)
		}
	}
	return b
}

// appendTOMLString appends s as a TOML basic string.
func appendTOMLString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r < 0x20 || r == 0x7f:
			b = fmt.Appendf(b, "\\u%04X", r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
