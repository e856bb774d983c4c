package flows

import (
	"fmt"

	"ipflow/engine"
	"ipflow/model"
)

// Outcome is a flow run against an estate.
type Outcome struct {
	*Flow
	Result *engine.Result
	Pass   bool
	// Why says, for a failure, what was expected and what happened instead.
	Why string
}

// Run evaluates every flow. The file must have passed Check against e; a flow the engine cannot
// evaluate is an error.
func (f *File) Run(e *engine.Engine) ([]Outcome, error) {
	out := make([]Outcome, 0, len(f.Flows))
	for _, fl := range f.Flows {
		res, err := e.Verify(fl.Flow)
		if err != nil {
			return nil, fmt.Errorf("%s: flow %q: %v", fl.Pos, fl.Name, err)
		}
		o := Outcome{Flow: fl, Result: res}
		o.Pass, o.Why = fl.judge(res)
		out = append(out, o)
	}
	return out, nil
}

// judge compares a verdict with what the flow expects.
func (fl *Flow) judge(res *engine.Result) (bool, string) {
	got := ExpectAllow
	if res.Access == model.Deny {
		got = ExpectDeny
	}
	var why []string
	if fl.Expect != NoExpect && fl.Expect != got {
		why = append(why, fmt.Sprintf("expected %s, got %s", fl.Expect, got))
	}
	if fl.Rule != "" && fl.Rule != res.RuleName() {
		why = append(why, fmt.Sprintf("expected rule %s, decided by %s", model.Printable(fl.Rule), decidedBy(res)))
	}
	if fl.NSG != "" && fl.NSG != nsgName(res) {
		where := "no NSG rule"
		switch {
		case res.Layer != nil && res.Layer.NSG != nil:
			where = "NSG " + model.Printable(res.Layer.NSG.Name)
		case res.Layer != nil:
			where = "security admin rules"
		}
		why = append(why, fmt.Sprintf("expected NSG %s, decided in %s", model.Printable(fl.NSG), where))
	}
	if len(why) == 0 {
		return true, ""
	}
	s := why[0]
	for _, w := range why[1:] {
		s += "; " + w
	}
	return false, s
}

func decidedBy(res *engine.Result) string {
	if res.Rule == nil {
		return "no rule (nothing applies, so every level allows)"
	}
	return model.Printable(res.RuleName())
}

// nsgName is the NSG of the deciding rule, or "".
func nsgName(res *engine.Result) string {
	if res.Layer != nil && res.Layer.NSG != nil {
		return res.Layer.NSG.Name
	}
	return ""
}
