package analysis_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/internal/estategen"
	"ipflow/internal/randestate"
	"ipflow/model"
)

func TestLintFindsEachKind(t *testing.T) {
	a := analysis.New(engine.Compile(loadFile(t, "testdata/lint.toml")))
	got := map[string]analysis.Finding{}
	for _, f := range a.Lint() {
		got[f.Kind+" "+f.Subject] = f
	}
	want := []struct {
		key, pos, msg string
		sev           analysis.Severity
	}{
		{"exposure securityRules/allow-all-in in NSG nic-nsg", "testdata/lint.toml:52", "allows TCP 3389 from the Internet to running VM(s) web-01; allowed on the way by securityRules/allow-rdp-internet, securityRules/allow-all-in", analysis.Error},
		{"shadowed securityRules/allow-https-again in NSG nic-nsg", "testdata/lint.toml:60", "can never decide a flow: securityRules/allow-all-in, of higher priority, match every flow it matches", analysis.Warning},
		{"unreachable securityRules/allow-telnet in NSG nic-nsg", "testdata/lint.toml:69", "on every NIC it applies to, securityRules/deny-telnet (NSG subnet-nsg on subnet/hub/web) decide them first", analysis.Warning},
		{"matches-nothing securityRules/from-ghosts in NSG nic-nsg", "testdata/lint.toml:78", "its source resolves to no address for the NICs it applies to (ASG ghosts has no members)", analysis.Warning},
		{"matches-nothing securityRules/to-elsewhere in NSG nic-nsg", "testdata/lint.toml:87", "its destination holds none of the 1 NIC address(es) it applies to", analysis.Warning},
		{"empty-asg ASG ghosts", "testdata/lint.toml:17", "has no members, so the rules naming it match nothing on that side: securityRules/from-ghosts", analysis.Warning},
		{"unused-tag service tag Unused.Tag", "testdata/lint.toml", "is declared but no rule names it", analysis.Note},
		{"unattached-nsg NSG orphan-nsg", "testdata/lint.toml:97", "is attached to no subnet and no NIC", analysis.Note},
	}
	for _, w := range want {
		f, ok := got[w.key]
		if !ok {
			t.Errorf("no finding %q; got %v", w.key, keys(got))
			continue
		}
		if f.Pos.String() != w.pos || !strings.Contains(f.Message, w.msg) || f.Severity != w.sev {
			t.Errorf("%s: %s %s %q", w.key, f.Pos, f.Severity, f.Message)
		}
	}
	// The rules that decide something get no finding.
	for k := range got {
		for _, fine := range []string{"deny-telnet", "allow-rdp-internet", "allow-web"} {
			if strings.Contains(k, "securityRules/"+fine+" ") && !strings.HasPrefix(k, "exposure") {
				t.Errorf("finding about a rule that decides flows: %s", k)
			}
		}
	}
}

func keys(m map[string]analysis.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestLintAgreesWithVerify: on random estates, a rule lint calls shadowed, unreachable or
// matching nothing is never the match of its layer in Verify's trace, at random points and at
// every rule boundary ± 1 of every NIC; every other custom rule is, at a point the partition
// names.
func TestLintAgreesWithVerify(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	dead, live := 0, 0
	for _, env := range randomEstates(t, 4) {
		e := engine.Compile(env)
		a := analysis.New(e)
		never := map[*model.Rule]string{}
		for _, f := range a.Lint() {
			switch f.Kind {
			case analysis.KindShadowed, analysis.KindUnreachable, analysis.KindMatchesNone:
				never[f.Rule] = f.Kind
			}
		}
		addrs, pts := randestate.Interesting(env)
		witnessed := map[*model.Rule]bool{}
		for _, tg := range e.Targets() {
			ipc := tg.IPConfig()
			if !ipc.NIC.VM.PowerState.Allocated() {
				continue
			}
			for _, d := range []model.Direction{model.Inbound, model.Outbound} {
				bAddrs, bPorts := boundaries(tg, d)
				as := slices.Concat(addrs, bAddrs)
				for _, p := range pts {
					bPorts = append(bPorts, uint16(p))
				}
				flow := func(pt analysis.Point) engine.Flow {
					return engine.Flow{VM: ipc.NIC.VM.Name, NIC: ipc.NIC.Name, Direction: d, Protocol: pt.Protocol, LocalIP: ipc.PrivateIP,
						LocalPort: engine.Port(pt.LocalPort), RemoteIP: pt.Remote, RemotePort: engine.Port(pt.RemotePort)}
				}
				check := func(pt analysis.Point) {
					res, err := e.Verify(flow(pt))
					if err != nil {
						t.Fatal(err)
					}
					for _, l := range res.Layers {
						if m := l.Matched(); m != nil && never[m] != "" {
							t.Fatalf("%s: %s matched in %s, yet lint says %s", flow(pt), m.ID(), l.Title(), never[m])
						}
					}
				}
				for range 300 {
					check(analysis.Point{Protocol: protos[rng.IntN(len(protos))], Remote: as[rng.IntN(len(as))], RemotePort: bPorts[rng.IntN(len(bPorts))], LocalPort: bPorts[rng.IntN(len(bPorts))]})
				}
				// A witness for every rule the partition says is matched: Verify agrees.
				for _, r := range analysis.Partition(tg, d, analysis.Everything()) {
					for s, m := range r.Matched {
						if m == nil || witnessed[m] {
							continue
						}
						pt := pointIn(r.Box, rng)
						check(pt)
						res, _ := e.Verify(flow(pt))
						found := false
						for _, l := range res.Layers {
							found = found || l.Layer == tg.Slots(d)[s] && l.Matched() == m
						}
						if !found {
							t.Fatalf("%s: the partition says %s matches in slot %d; Verify disagrees", flow(pt), m.ID(), s)
						}
						witnessed[m] = true
					}
				}
			}
		}
		for _, n := range env.NSGs {
			for _, r := range n.Rules {
				switch {
				case never[r] != "":
					dead++
				case witnessed[r]:
					live++
				default:
					// Neither reported nor matched anywhere: only rules of NSGs on no allocated NIC.
					t.Errorf("%s in %s: no finding, yet no flow matches it", r.ID(), n.Name)
				}
			}
		}
	}
	if dead == 0 || live == 0 {
		t.Errorf("%d dead and %d live rules: the estates should have both", dead, live)
	}
}

// LintContext stops, with the context's error and no findings, once its context is done; with a
// live context it finds what Lint finds.
func TestLintContextStops(t *testing.T) {
	a := analysis.New(engine.Compile(model.MustLoad(model.Source{Name: "gen.toml", Data: estategen.Large(300, 30, 20)})))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if fs, err := a.LintContext(ctx); !errors.Is(err, context.Canceled) || fs != nil {
		t.Errorf("a done context: %d findings, %v", len(fs), err)
	}
	fs, err := a.LintContext(context.Background())
	if err != nil || len(fs) == 0 || len(fs) != len(a.Lint()) {
		t.Errorf("a live context: %d findings (Lint: %d), %v", len(fs), len(a.Lint()), err)
	}
}
