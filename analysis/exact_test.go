package analysis_test

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/internal/randestate"
	"ipflow/model"
)

var protos = []model.Protocol{model.TCP, model.UDP, model.ICMP, model.ESP, model.AH}

// randomEstates are the engine's reference-test estates, loaded.
func randomEstates(t testing.TB, n int) []*model.Environment {
	t.Helper()
	var out []*model.Environment
	for seed := range uint64(n) {
		rng := rand.New(rand.NewPCG(seed, 7))
		env, err := model.Load(model.Source{Name: fmt.Sprintf("random-%d.toml", seed), Data: []byte(randestate.Estate(rng))})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		out = append(out, env)
	}
	return out
}

func sample(t testing.TB) *model.Environment {
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// boundaries are the values around every cut of a target's rules in one direction: each
// range's ends and the values just outside them.
func boundaries(tg engine.Target, d model.Direction) (addrs []netip.Addr, ports []uint16) {
	addU := func(v uint32) { addrs = append(addrs, engine.BitsAddr(v)) }
	addP := func(v int) {
		if v >= 0 && v <= 65535 {
			ports = append(ports, uint16(v))
		}
	}
	for s := range 3 {
		for _, rs := range tg.Spaces(d, s) {
			for _, r := range rs.Remote {
				addU(r.Lo)
				addU(r.Hi)
				if r.Lo > 0 {
					addU(r.Lo - 1)
				}
				if r.Hi < ^uint32(0) {
					addU(r.Hi + 1)
				}
			}
			for _, r := range slices.Concat(rs.RemotePorts, rs.LocalPorts) {
				addP(int(r.Lo) - 1)
				addP(int(r.Lo))
				addP(int(r.Hi))
				addP(int(r.Hi) + 1)
			}
		}
	}
	return addrs, ports
}

// agree checks Verify at a point against the region that holds it; exactly one must.
func agree(t *testing.T, e *engine.Engine, tg engine.Target, d model.Direction, regions []analysis.Region, pt analysis.Point) {
	t.Helper()
	held := 0
	var reg analysis.Region
	for _, r := range regions {
		if r.Contains(pt) {
			held++
			reg = r
		}
	}
	if held != 1 {
		t.Fatalf("%+v is in %d regions, want 1", pt, held)
	}
	ipc := tg.IPConfig()
	f := engine.Flow{VM: ipc.NIC.VM.Name, NIC: ipc.NIC.Name, Direction: d, Protocol: pt.Protocol, LocalIP: ipc.PrivateIP,
		LocalPort: engine.Port(pt.LocalPort), RemoteIP: pt.Remote, RemotePort: engine.Port(pt.RemotePort)}
	res, err := e.Verify(f)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	if res.Access != reg.Access || res.Rule != reg.Rule || res.Layer != reg.Layer {
		t.Fatalf("%s on %s: Verify %s %s, region %s %s", f, ipc.NIC.Name, res.Access, res.RuleName(), reg.Access, ruleID(reg.Rule))
	}
	slots := tg.Slots(d)
	for _, l := range res.Layers {
		s := slices.Index(slots[:], l.Layer)
		if s < 0 || l.Matched() != reg.Matched[s] {
			t.Fatalf("%s: layer %s matched %v, region says %v", f, l.Title(), l.Matched(), reg.Matched)
		}
	}
}

func ruleID(r *model.Rule) string {
	if r == nil {
		return "(none)"
	}
	return r.ID()
}

// covers checks that the regions' sizes add up to the whole space: with every point in at
// most one region (checked at each point), the regions are then a partition.
func covers(t *testing.T, regions []analysis.Region) {
	t.Helper()
	for _, p := range protos {
		var hi, lo uint64
		for _, r := range regions {
			if !r.Protocols.Has(p) {
				continue
			}
			n := r.Remote.Size()
			if p.HasPorts() {
				h1, l1 := bits.Mul64(n, ports(r.RemotePorts)*ports(r.LocalPorts))
				var c uint64
				lo, c = bits.Add64(lo, l1, 0)
				hi += h1 + c
				continue
			}
			var c uint64
			lo, c = bits.Add64(lo, n, 0)
			hi += c
		}
		want := [2]uint64{1, 0} // 2^64 = 2^32 addresses × 2^16 × 2^16 ports
		if !p.HasPorts() {
			want = [2]uint64{0, 1 << 32}
		}
		if hi != want[0] || lo != want[1] {
			t.Fatalf("%s: regions hold %d·2^64+%d flows, want %d·2^64+%d", p.FlowString(), hi, lo, want[0], want[1])
		}
	}
}

func ports(p analysis.PortSet) uint64 {
	n := uint64(0)
	for _, r := range p.Ranges() {
		n += uint64(r.Hi-r.Lo) + 1
	}
	return n
}

// checkEstate partitions the whole flow space of every allocated target and direction and
// checks Verify at random points and at every rule boundary ± 1.
func checkEstate(t *testing.T, env *model.Environment, perTarget int) {
	e := engine.Compile(env)
	addrs, pts := randestate.Interesting(env)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tg := range e.Targets() {
		if !tg.IPConfig().NIC.VM.PowerState.Allocated() {
			continue
		}
		for _, d := range []model.Direction{model.Inbound, model.Outbound} {
			regions := analysis.Partition(tg, d, analysis.Everything())
			covers(t, regions)
			bAddrs, bPorts := boundaries(tg, d)
			as := slices.Concat(addrs, bAddrs)
			ps := bPorts
			for _, p := range pts {
				if p >= 0 {
					ps = append(ps, uint16(p))
				}
			}
			anyAddr := func() netip.Addr {
				if rng.IntN(8) == 0 {
					return engine.BitsAddr(rng.Uint32())
				}
				return as[rng.IntN(len(as))]
			}
			anyPort := func() uint16 {
				if rng.IntN(8) == 0 {
					return uint16(rng.IntN(65536))
				}
				return ps[rng.IntN(len(ps))]
			}
			point := func() analysis.Point {
				return analysis.Point{Protocol: protos[rng.IntN(len(protos))], Remote: anyAddr(), RemotePort: anyPort(), LocalPort: anyPort()}
			}
			for range perTarget {
				agree(t, e, tg, d, regions, point())
			}
			// Every boundary, in each dimension, with the other dimensions random.
			for _, a := range bAddrs {
				pt := point()
				pt.Remote = a
				agree(t, e, tg, d, regions, pt)
			}
			for _, p := range bPorts {
				pt := point()
				pt.Protocol = protos[rng.IntN(2)]
				pt.RemotePort = p
				agree(t, e, tg, d, regions, pt)
				pt = point()
				pt.Protocol = protos[rng.IntN(2)]
				pt.LocalPort = p
				agree(t, e, tg, d, regions, pt)
			}
		}
	}
}

func TestPartitionAgreesWithVerifyOnSample(t *testing.T) {
	checkEstate(t, sample(t), 2000)
}

func TestPartitionAgreesWithVerifyOnRandomEstates(t *testing.T) {
	for i, env := range randomEstates(t, 4) {
		t.Run(fmt.Sprint("seed", i), func(t *testing.T) { checkEstate(t, env, 500) })
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func loadFile(t testing.TB, path string) *model.Environment {
	t.Helper()
	srcs, err := model.ReadPaths([]string{path}, 0)
	if err != nil {
		t.Fatal(err)
	}
	env, err := model.Load(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return env
}
