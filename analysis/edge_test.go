package analysis_test

import (
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
)

// Estates at the edges: nothing to analyse must give empty answers, not a panic.
func TestEdgeEstates(t *testing.T) {
	for name, src := range map[string]string{
		"no VMs":        "[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n  [[vnet.subnet]]\n  name = \"s\"\n  prefix = \"10.0.1.0/24\"\n",
		"nothing":       "",
		"no NSG at all": "[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n  [[vnet.subnet]]\n  name = \"s\"\n  prefix = \"10.0.1.0/24\"\n[[vm]]\nname = \"a\"\n  [[vm.nic]]\n  name = \"n\"\n  private_ip = \"10.0.1.4\"\n  subnet = \"v/s\"\n",
		"only stopped":  "[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n  [[vnet.subnet]]\n  name = \"s\"\n  prefix = \"10.0.1.0/24\"\n[[vm]]\nname = \"a\"\npower_state = \"deallocated\"\n  [[vm.nic]]\n  name = \"n\"\n  private_ip = \"10.0.1.4\"\n  subnet = \"v/s\"\n",
	} {
		env, err := model.Load(model.Source{Name: "edge.toml", Data: []byte(src)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := engine.Compile(env)
		a := analysis.New(e)
		fs := a.Lint()
		m, err := a.Matrix(analysis.MatrixQuery{Protocol: model.TCP, Port: 22})
		if err != nil || len(m.Cells) != len(env.VMs) {
			t.Errorf("%s: matrix %v %v", name, m, err)
		}
		if d := analysis.Diff(e, e); d.Changed() {
			t.Errorf("%s: an estate differs from itself", name)
		}
		if name == "no NSG at all" {
			// Every port of a running VM is open to the Internet: one exposure.
			if len(fs) != 1 || fs[0].Kind != analysis.KindExposure || fs[0].Rule != nil {
				t.Errorf("%s: findings %+v", name, fs)
			}
			r, err := a.Reach(analysis.ReachQuery{VM: "a", Direction: model.Inbound, Protocol: model.TCP, Ports: model.PortRange{Lo: 22, Hi: 22}})
			if err != nil || len(r.Allowed) != 1 || !r.Allowed[0].Remote.All() || r.Allowed[0].Rule != nil || len(r.Denied) != 0 {
				t.Errorf("%s: reach %+v %v", name, r, err)
			}
		} else if len(fs) != 0 {
			t.Errorf("%s: findings %+v", name, fs)
		}
	}
}
