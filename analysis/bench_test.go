package analysis_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/internal/estategen"
	"ipflow/model"
)

// The speed targets, on the generated estate of 10,000 VMs and 2,000 NSGs of 50 rules:
// reach ≤ 20 ms, lint ≤ 2 s, diff of two such estates differing in one NSG ≤ 1 s, matrix of
// 200 VMs on one port ≤ 1 s. Loading and compiling are outside the timings ("after load").

var large = sync.OnceValues(func() (string, error) {
	return string(estategen.Large(10000, 2000, 50)), nil
})

func loadLarge(b *testing.B, src string) *engine.Engine {
	b.Helper()
	env, err := model.Load(model.Source{Name: "large.toml", Data: []byte(src)})
	if err != nil {
		b.Fatal(err)
	}
	return engine.Compile(env)
}

func BenchmarkReach10kVMs(b *testing.B) {
	src, _ := large()
	a := analysis.New(loadLarge(b, src))
	for _, d := range []model.Direction{model.Inbound, model.Outbound} {
		b.Run(d.String(), func(b *testing.B) {
			q := analysis.ReachQuery{VM: "vm-1234", Direction: d, Protocol: model.TCP, Ports: model.PortRange{Lo: 443, Hi: 443}}
			for b.Loop() {
				if _, err := a.Reach(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLint2000NSGsOf50Rules(b *testing.B) {
	src, _ := large()
	a := analysis.New(loadLarge(b, src))
	var n int
	cpu := cpuTime()
	for b.Loop() {
		n = len(a.Lint())
	}
	b.ReportMetric(float64(n), "findings")
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func BenchmarkDiff10kVMsOneNSGChanged(b *testing.B) {
	src, _ := large()
	// Turn nsg-7's first Allow into a Deny.
	at := bytes.Index([]byte(src), []byte("name = \"nsg-7\"\n"))
	i := at + bytes.Index([]byte(src[at:]), []byte(`access = "Allow"`))
	changed := src[:i] + `access = "Deny"` + src[i+len(`access = "Allow"`):]
	before, after := loadLarge(b, src), loadLarge(b, changed)
	var d *analysis.DiffResult
	for b.Loop() {
		d = analysis.Diff(before, after)
	}
	if !d.Changed() {
		b.Fatal("no change found")
	}
	b.ReportMetric(float64(d.Analysed), "analysed")
	b.ReportMetric(float64(len(d.Changes)), "changed")
}

func BenchmarkMatrix200VMs(b *testing.B) {
	src, _ := large()
	a := analysis.New(loadLarge(b, src))
	var vms []string
	for i := range 200 {
		vms = append(vms, fmt.Sprintf("vm-%d", i*37))
	}
	for b.Loop() {
		if _, err := a.Matrix(analysis.MatrixQuery{Protocol: model.TCP, Port: 443, VMs: vms}); err != nil {
			b.Fatal(err)
		}
	}
}
