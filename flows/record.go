package flows

import (
	"ipflow/internal/tomlw"
	"ipflow/model"
)

// Record writes the flows as a flows file with expect, rule and nsg set from today's verdicts:
// the way to adopt a baseline. Comments of the input are not kept.
func Record(outcomes []Outcome) []byte {
	w := tomlw.New(256 * len(outcomes))
	for i, o := range outcomes {
		if i > 0 {
			w.Line("", "")
		}
		w.Line("", "[[flow]]")
		w.Str("", "name", o.Name)
		w.Str("", "vm", o.Fields.VM)
		if o.Fields.NIC != "" {
			w.Str("", "nic", o.Fields.NIC)
		}
		w.Str("", "direction", o.Fields.Direction)
		w.Str("", "protocol", o.Fields.Protocol)
		w.Str("", "local", o.Fields.Local)
		w.Str("", "remote", o.Fields.Remote)
		if o.Result.Access == model.Deny {
			w.Str("", "expect", "deny")
		} else {
			w.Str("", "expect", "allow")
		}
		if o.Result.Rule != nil {
			w.Str("", "rule", o.Result.RuleName())
		}
		if n := nsgName(o.Result); n != "" {
			w.Str("", "nsg", n)
		}
	}
	return w.Bytes()
}
