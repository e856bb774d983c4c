package analysis_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
)

// checkMatrix checks every cell against Verify on both sides at several source ports.
func checkMatrix(t *testing.T, e *engine.Engine, m *analysis.Matrix, rng *rand.Rand) (states [4]int) {
	t.Helper()
	q := m.Query
	for i, from := range m.VMs {
		for j, to := range m.VMs {
			c := m.Cells[i][j]
			states[c.State]++
			if i == j || !from.Ok || !to.Ok {
				if c.State != analysis.NotPaired {
					t.Fatalf("%s → %s: %s, want n/a", from.VM.Name, to.VM.Name, c.State)
				}
				continue
			}
			src, dst := from.Target.IPConfig(), to.Target.IPConfig()
			both := func(sp uint16) (bool, *engine.Result, *engine.Result) {
				out, err1 := e.Verify(engine.Flow{VM: src.NIC.VM.Name, NIC: src.NIC.Name, Direction: model.Outbound, Protocol: q.Protocol,
					LocalIP: src.PrivateIP, LocalPort: engine.Port(sp), RemoteIP: dst.PrivateIP, RemotePort: engine.Port(q.Port)})
				in, err2 := e.Verify(engine.Flow{VM: dst.NIC.VM.Name, NIC: dst.NIC.Name, Direction: model.Inbound, Protocol: q.Protocol,
					LocalIP: dst.PrivateIP, LocalPort: engine.Port(q.Port), RemoteIP: src.PrivateIP, RemotePort: engine.Port(sp)})
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				return out.Access == model.Allow && in.Access == model.Allow, out, in
			}
			ok, out, in := both(c.SourcePort)
			if out.Rule != c.Out.Rule || in.Rule != c.In.Rule || ok != (c.State != analysis.Denied) {
				t.Fatalf("%s → %s at source port %d: Verify %s/%s %s/%s, cell %s %v/%v", from.VM.Name, to.VM.Name, c.SourcePort,
					out.Access, out.RuleName(), in.Access, in.RuleName(), c.State, c.Out.Rule, c.In.Rule)
			}
			for _, sp := range []uint16{0, 1, 1023, 1024, 49152, 65535, uint16(rng.IntN(65536))} {
				ok, _, _ := both(sp)
				if want := c.SourcePorts.Contains(sp) || !q.Protocol.HasPorts() && c.State == analysis.Allowed; ok != want {
					t.Fatalf("%s → %s from source port %d: Verify says %v, cell %s (source ports %s)", from.VM.Name, to.VM.Name, sp, ok, c.State, c.SourcePorts)
				}
			}
		}
	}
	return states
}

func TestMatrixAgreesWithVerify(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var total [4]int
	for _, env := range append(randomEstates(t, 4), sample(t)) {
		e := engine.Compile(env)
		a := analysis.New(e)
		for _, q := range []analysis.MatrixQuery{{Protocol: model.TCP, Port: 443}, {Protocol: model.TCP, Port: 22}, {Protocol: model.UDP, Port: 53}, {Protocol: model.TCP, Port: 8080}, {Protocol: model.ICMP}} {
			m, err := a.Matrix(q)
			if err != nil {
				t.Fatal(err)
			}
			s := checkMatrix(t, e, m, rng)
			for i := range s {
				total[i] += s[i]
			}
		}
	}
	if total[analysis.Allowed] == 0 || total[analysis.Denied] == 0 {
		t.Errorf("states seen %v: the estates should give both answers", total)
	}
}

func TestMatrixText(t *testing.T) {
	a := analysis.New(engine.Compile(sample(t)))
	m, err := a.Matrix(analysis.MatrixQuery{Protocol: model.TCP, Port: 22, VMs: []string{"web-01", "jump-01", "batch-01"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := m.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "TCP port 22: can the row VM reach the column VM?\n\n    from \\ to  1 2 3\n 1  web-01     · ✓ ·\n 2  jump-01    ✓ · ·\n 3  batch-01   · · ·   (deallocated)\n"
	if !strings.HasPrefix(b.String(), want) || !strings.Contains(b.String(), "jump-01 → web-01: out no NSG, allowed; in securityRules/allow-ssh-from-mgmt (NSG web-nic-nsg)") {
		t.Errorf("text:\n%s\nwant prefix:\n%s", b.String(), want)
	}
	if _, err := a.Matrix(analysis.MatrixQuery{Protocol: model.TCP, Port: 22, VMs: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `unknown VM "nope"`) {
		t.Errorf("unknown VM: %v", err)
	}
}
