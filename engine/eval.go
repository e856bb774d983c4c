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

func portMatch(all bool, s portSet, p int32) bool {
	return all || p < 0 || s.contains(uint16(p))
}

// matches is the verdict path: cheapest checks first, stop at the first failure.
func (r *cRule) matches(f *cflow, t *target) bool {
	if r.protoMask&f.proto == 0 {
		return false
	}
	if f.ports && !(portMatch(r.dportAll, r.dport, f.dport) && portMatch(r.sportAll, r.sport, f.sport)) {
		return false
	}
	out := f.dir == model.Outbound
	return r.src.match(f.src, out, t) && r.dst.match(f.dst, !out, t)
}

// fields is the trace path: all five checks, as NSG diagnostics reports them.
func (r *cRule) fields(f *cflow, t *target) Fields {
	out := f.dir == model.Outbound
	var m Fields
	if r.protoMask&f.proto != 0 {
		m |= 1 << FieldProtocol
	}
	if r.src.match(f.src, out, t) {
		m |= 1 << FieldSource
	}
	if !f.ports || portMatch(r.sportAll, r.sport, f.sport) {
		m |= 1 << FieldSourcePort
	}
	if r.dst.match(f.dst, !out, t) {
		m |= 1 << FieldDestination
	}
	if !f.ports || portMatch(r.dportAll, r.dport, f.dport) {
		m |= 1 << FieldDestinationPort
	}
	return m
}

func firstMatch(rs []cRule, f *cflow, t *target) *cRule {
	for i := range rs {
		if rs[i].matches(f, t) {
			return &rs[i]
		}
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
		if r := firstMatch(t.admin.rules[f.dir], f, t); r != nil {
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
		r := firstMatch(l.rules[f.dir], f, t)
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
