package engine_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/internal/randestate"
	"ipflow/model"
	"ipflow/whatif"
)

// CompileWithBase answers exactly as Compile: on random estates (half of them without ASG
// rules, whose NSG tables a what-if then shares) with random change sets, for the what-if of
// the whole estate, of a view of some VMs, and for the view alone, every verdict and trace on
// random flows at the estate's boundaries is the same as a full compile's.
func TestCompileWithBaseIsExact(t *testing.T) {
	noASGs := regexp.MustCompile(`(source|destination)_asgs = \[[^\]]*\]`)
	protos := []model.Protocol{model.TCP, model.UDP, model.ICMP}
	reused, rebound := 0, 0
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 23))
		text := randestate.Estate(rng)
		if seed%2 == 1 {
			text = noASGs.ReplaceAllString(text, `$1 = "VirtualNetwork"`)
		}
		env, err := model.Load(model.Source{Name: fmt.Sprintf("random-%d.toml", seed), Data: []byte(text)})
		if err != nil {
			t.Fatal(err)
		}
		base := engine.Compile(env)
		addrs, ports := randestate.Interesting(env)
		for round := range 4 {
			changes := randomChanges(rng, env)
			var some []*model.VM
			for _, vm := range env.VMs {
				if rng.IntN(2) == 0 {
					some = append(some, vm)
				}
			}
			view := whatif.Only(env, some)
			for _, what := range []struct {
				name string
				env  *model.Environment
			}{{"what-if", apply(t, env, changes)}, {"what-if of a view", apply(t, view, changes)}, {"view", view}} {
				full, inc := engine.Compile(what.env), engine.CompileWithBase(base, what.env)
				same, rb := engine.SharedTables(base, inc)
				if same > 0 {
					reused++
				}
				if rb > 0 {
					rebound++
				}
				for _, tg := range full.Targets() {
					c := tg.IPConfig()
					for _, d := range []model.Direction{model.Inbound, model.Outbound} {
						for range 6 {
							f := engine.Flow{VM: c.NIC.VM.Name, NIC: c.NIC.Name, Direction: d, Protocol: protos[rng.IntN(len(protos))], LocalIP: c.PrivateIP,
								LocalPort: ports[rng.IntN(len(ports))], RemoteIP: addrs[rng.IntN(len(addrs))], RemotePort: ports[rng.IntN(len(ports))]}
							want, got := dump(full.Verify(f)), dump(inc.Verify(f))
							if got != want {
								t.Fatalf("seed %d round %d, %s of %d changes:\n%s\nflow %+v\nincremental:\n%s\nfull:\n%s", seed, round, what.name, len(changes),
									whatif.Format(changes), f, got, want)
							}
						}
					}
				}
			}
		}
	}
	if reused < 20 || rebound < 10 {
		t.Fatalf("%d what-ifs shared a table with their base, %d rebound one: the reuse is not exercised", reused, rebound)
	}
}

func apply(t *testing.T, env *model.Environment, changes []whatif.Change) *model.Environment {
	t.Helper()
	out, err := whatif.Apply(env, changes)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// randomChanges is one to four changes that apply to env: rules of its NSGs added (copies of
// other rules), replaced (moved, access flipped, ports changed) or removed, and admin rules
// replaced or removed.
func randomChanges(rng *rand.Rand, env *model.Environment) []whatif.Change {
	var out []whatif.Change
	for i := range 1 + rng.IntN(4) {
		g := env.NSGs[rng.IntN(len(env.NSGs))]
		var c whatif.Change
		switch k := rng.IntN(6); {
		case k == 5 && len(env.AdminRules) > 0:
			a := *env.AdminRules[rng.IntN(len(env.AdminRules))]
			c = whatif.Change{Op: whatif.Remove, Name: a.Name, Admin: &model.AdminRule{Rule: model.Rule{Name: a.Name}}}
			if rng.IntN(2) == 0 {
				a.Access = []model.Access{model.Allow, model.Deny, model.AlwaysAllow}[rng.IntN(3)]
				c = whatif.Change{Op: whatif.Replace, Name: a.Name, Admin: &a}
			}
		case len(g.Rules) == 0 || k < 2:
			from := env.NSGs[rng.IntN(len(env.NSGs))]
			if len(from.Rules) == 0 {
				continue
			}
			r := *from.Rules[rng.IntN(len(from.Rules))]
			r.Name, r.Priority = fmt.Sprintf("added-%d", i), 100+rng.IntN(600)
			c = whatif.Change{Op: whatif.Add, NSG: g.Name, Name: r.Name, Rule: &r}
		case k < 4:
			r := *g.Rules[rng.IntN(len(g.Rules))]
			switch rng.IntN(3) {
			case 0:
				r.Priority = 100 + rng.IntN(600)
			case 1:
				r.Access = []model.Access{model.Allow, model.Deny}[rng.IntN(2)]
			default:
				lo := uint16(rng.IntN(65536))
				r.Destination.Ports = []model.PortRange{{Lo: lo, Hi: lo + uint16(rng.IntN(int(65535-lo)+1))}}
			}
			c = whatif.Change{Op: whatif.Replace, NSG: g.Name, Name: r.Name, Rule: &r}
		default:
			r := g.Rules[rng.IntN(len(g.Rules))]
			c = whatif.Change{Op: whatif.Remove, NSG: g.Name, Name: r.Name}
		}
		if _, err := whatif.Apply(env, append(out, c)); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// dump is everything a result says: verdict, every layer's trace with the rules tried, notes.
func dump(r *engine.Result, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s | %s | %s\n", r.Verdict.Headline(), r.RuleLine(), r.Target())
	for i := range r.Layers {
		l := &r.Layers[i]
		fmt.Fprintf(&b, "%s status %d %q match %d\n", l.Title(), l.Status, l.Reason, l.Match)
		for j, rule := range l.Rules() {
			fmt.Fprintf(&b, "  %s %d %s %s %s", rule.Name, rule.Priority, rule.Access, rule.Direction, rule.Protocol)
			if j < len(l.Tried) {
				fmt.Fprintf(&b, " tried %05b", l.Tried[j])
			}
			b.WriteByte('\n')
		}
	}
	for _, n := range r.Notes {
		b.WriteString(n + "\n")
	}
	return b.String()
}
