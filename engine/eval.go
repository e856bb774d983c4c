package engine

import (
	"ipflow/model"
)

// Verdict is the answer without the trace.
type Verdict struct {
	Access model.Access // Allow or Deny
	Rule   *model.Rule  // the deciding rule (SPEC §3.3); nil when no rule decided
	Layer  *Layer       // the layer of the deciding rule; nil when no rule decided
}

// RuleName is the rule as Azure names it (securityRules/NAME, ...), or "" when no rule decided.
func (v Verdict) RuleName() string {
	if v.Rule == nil {
		return ""
	}
	return v.Rule.ID()
}

// cflow is a flow in integers, as the matchers want it.
type cflow struct {
	dir      model.Direction
	proto    uint8
	ports    bool // the protocol has ports
	src, dst uint32
	sport    int32 // -1 is *
	dport    int32
}

func compileFlow(f *Flow) cflow {
	sa, sp := f.Source()
	da, dp := f.Destination()
	return cflow{dir: f.Direction, proto: protoBit(f.Protocol), ports: f.Protocol.HasPorts(),
		src: ip4(sa), dst: ip4(da), sport: int32(sp), dport: int32(dp)}
}

// firstMatch is the first rule of layer l that matches the flow, or nil.
func firstMatch(l *Layer, f *cflow, t *target) *cRule {
	i := -1
	tb := l.table
	if x := tb.index[f.dir]; x != nil {
		i = x.first(tb.hot[f.dir], tb.rules[f.dir], f, t)
	} else {
		i = scan(tb.hot[f.dir], tb.rules[f.dir], f, t)
	}
	if i >= 0 {
		return &tb.rules[f.dir][i]
	}
	return nil
}

// Decide evaluates a flow and returns the verdict without a trace. It does not allocate unless
// the flow cannot be evaluated.
func (e *Engine) Decide(f Flow) (Verdict, error) {
	t, err := e.resolve(&f)
	if err != nil {
		return Verdict{}, err
	}
	cf := compileFlow(&f)
	return decide(t, &cf), nil
}

func decide(t *target, f *cflow) Verdict {
	v := Verdict{Access: model.Allow}
	if t.admin != nil {
		if r := firstMatch(t.admin, f, t); r != nil {
			switch r.access {
			case model.Deny:
				return Verdict{model.Deny, r.rule, t.admin}
			case model.AlwaysAllow:
				return Verdict{model.Allow, r.rule, t.admin}
			}
			v = Verdict{model.Allow, r.rule, t.admin}
		}
	}
	for _, l := range t.order[f.dir] {
		if l.NSG == nil {
			continue // a level without an NSG allows
		}
		r := firstMatch(l, f, t)
		if r == nil {
			continue // unreachable: DenyAll* matches every flow
		}
		if r.access == model.Deny {
			return Verdict{model.Deny, r.rule, l}
		}
		v = Verdict{model.Allow, r.rule, l}
	}
	return v
}
