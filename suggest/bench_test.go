package suggest_test

import (
	"sync"
	"testing"

	"ipflow/engine"
	"ipflow/internal/cputime"
	"ipflow/internal/estategen"
	"ipflow/model"
	"ipflow/suggest"
	"ipflow/whatif"
)

var (
	largeOnce sync.Once
	largeEng  *engine.Engine
	largeErr  error
)

// large is the 10,000-VM estate of the other benchmarks: 2,000 NSGs of 50 rules.
func large(b *testing.B) *engine.Engine {
	largeOnce.Do(func() {
		env, err := model.Load(model.Source{Name: "large.toml", Data: estategen.Large(10000, 2000, 50)})
		if err != nil {
			largeErr = err
			return
		}
		largeEng = engine.Compile(env)
	})
	if largeErr != nil {
		b.Fatal(largeErr)
	}
	return largeEng
}

// largeFlow is a flow of the large estate that its NSGs deny, on a VM in the middle.
func largeFlow(b *testing.B, e *engine.Engine) engine.Flow {
	ts, err := e.VMTargets("vm-5000", "")
	if err != nil {
		b.Fatal(err)
	}
	c := ts[0].IPConfig()
	for _, p := range []engine.Port{5999, 123, 8081, 4444, 22} {
		f := engine.Flow{VM: "vm-5000", Direction: model.Inbound, Protocol: model.UDP, LocalIP: c.PrivateIP, LocalPort: p,
			RemoteIP: mustAddr("13.107.21.200"), RemotePort: 60000}
		if v, err := e.Decide(f); err == nil && v.Access == model.Deny && v.Layer.NSG != nil {
			return f
		}
	}
	b.Fatal("no flow the NSGs deny on vm-5000")
	return engine.Flow{}
}

// BenchmarkSuggest10k: every suggestion, with its exact blast radius, for a denied flow on the
// 10,000-VM estate. Target: ≤ 100 ms.
func BenchmarkSuggest10k(b *testing.B) {
	e := large(b)
	f := largeFlow(b, e)
	r, err := suggest.For(e, f)
	if err != nil || len(r.Suggestions) == 0 {
		b.Fatalf("%v %v", err, r.Notes)
	}
	b.ReportAllocs()
	cpu := cputime.Used()
	for b.Loop() {
		if _, err := suggest.For(e, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Used()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkApplyAndVerify10k: apply a suggestion's change set to the 10,000-VM estate (a new
// estate, the loaded one untouched) and give the flow's verdict in it, as the sandbox does.
// Target: ≤ 50 ms.
func BenchmarkApplyAndVerify10k(b *testing.B) {
	e := large(b)
	f := largeFlow(b, e)
	r, err := suggest.For(e, f)
	if err != nil || len(r.Suggestions) == 0 {
		b.Fatal(err)
	}
	changes := r.Suggestions[0].Changes
	b.ReportAllocs()
	cpu := cputime.Used()
	for b.Loop() {
		after, err := whatif.Apply(e.Environment(), changes)
		if err != nil {
			b.Fatal(err)
		}
		res, err := suggest.EvaluateWithBase(e, after, f)
		if err != nil || res.Access != model.Allow {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Used()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}
