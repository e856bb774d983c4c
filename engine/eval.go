package engine

import (
	"ipflow/model"
)

// Verdict is the answer without the trace.
type Verdict struct {
	Access model.Access // Allow or Deny
	Rule   *model.Rule  // the deciding rule (the last layer's match); nil when no rule decided
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

// compileFlow maps local/remote to source/destination as Flow.Source and Flow.Destination do,
// inline: it is on the verdict path, and copying netip.Addr values through them costs more.
func compileFlow(f *Flow) cflow {
	local, remote := ip4(f.LocalIP), ip4(f.RemoteIP)
	cf := cflow{dir: f.Direction, proto: protoBit(f.Protocol), ports: f.Protocol.HasPorts()}
	if f.Direction == model.Inbound {
		cf.src, cf.sport, cf.dst, cf.dport = remote, int32(f.RemotePort), local, int32(f.LocalPort)
	} else {
		cf.src, cf.sport, cf.dst, cf.dport = local, int32(f.LocalPort), remote, int32(f.RemotePort)
	}
	return cf
}

// first is the position of the first rule that matches the flow, or -1. local is the target's
// precomputed local-side bitset for these rules (nil without an index).
func (rs *dirRules) first(f *cflow, t *target, local []uint64) int {
	i := -1
	switch x := rs.index; {
	case x == nil:
		i = scan(rs.hot, rs.rules, f, t)
	case x.words == 1:
		i = x.first1(rs.hot, rs.rules, f, t, local[0])
	default:
		i = x.first(rs.hot, rs.rules, f, t, local)
	}
	return i // never -1 for NSGs: DenyAll* matches every flow
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

// decide walks the target's layers in order (admin rules, then the NSGs in Azure's order
// for the direction): a Deny is final, AlwaysAllow (admin
// rules only) is final, an Allow lets the next layer decide; the last match is reported.
func decide(t *target, f *cflow) Verdict {
	v := Verdict{Access: model.Allow}
	steps := t.steps[f.dir]
	for i := range steps {
		s := &steps[i]
		i := s.rules.first(f, t, s.local)
		if i < 0 {
			continue
		}
		r := s.rules.sorted[i]
		switch s.rules.rules[i].access {
		case model.Deny:
			return Verdict{model.Deny, r, s.layer}
		case model.AlwaysAllow:
			return Verdict{model.Allow, r, s.layer}
		}
		v = Verdict{model.Allow, r, s.layer}
	}
	return v
}
