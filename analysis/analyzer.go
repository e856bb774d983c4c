package analysis

import (
	"net/netip"
	"slices"
	"strconv"

	"ipflow/engine"
	"ipflow/model"
)

// Analyzer answers whole-space questions about one compiled estate. It is immutable and safe
// for concurrent use.
type Analyzer struct {
	e        *engine.Engine
	env      *model.Environment
	ipcs     []*model.IPConfig // every IP configuration in a subnet, sorted by address
	bySubnet map[*model.Subnet][]*model.IPConfig
}

// New prepares an Analyzer for a compiled estate.
func New(e *engine.Engine) *Analyzer { return NewFor(e, e.Environment()) }

// NewFor prepares an Analyzer for an engine compiled for some of env's VMs only (whatif.Only):
// it answers Reach for those VMs exactly as New(engine.Compile(env)) would, naming addresses
// from the whole of env. Lint, Matrix and Diff, which look at every VM, need New.
func NewFor(e *engine.Engine, env *model.Environment) *Analyzer {
	a := &Analyzer{e: e, env: env, bySubnet: map[*model.Subnet][]*model.IPConfig{}}
	for _, vm := range a.env.VMs {
		for _, n := range vm.NICs {
			for _, c := range n.IPConfigs {
				if c.Subnet != nil && c.PrivateIP.Is4() {
					a.ipcs = append(a.ipcs, c)
					a.bySubnet[c.Subnet] = append(a.bySubnet[c.Subnet], c)
				}
			}
		}
	}
	slices.SortStableFunc(a.ipcs, func(x, y *model.IPConfig) int { return x.PrivateIP.Compare(y.PrivateIP) })
	return a
}

// Engine is the compiled estate the Analyzer answers about.
func (a *Analyzer) Engine() *engine.Engine { return a.e }

// target is the IP configuration a query means: of the named NIC, or of the VM's primary NIC,
// the one holding ip, or else the NIC's primary IP configuration. Errors are
// *engine.InputError, as Verify's.
func (a *Analyzer) target(vm, nic string, ip netip.Addr) (engine.Target, error) {
	ts, err := a.e.VMTargets(vm, nic)
	if err != nil {
		return engine.Target{}, err
	}
	v := ts[0].IPConfig().NIC.VM
	if !v.PowerState.Allocated() {
		return engine.Target{}, &engine.InputError{Field: "vm", Problem: "VM " + quote(vm) + " is " + v.PowerState.String(),
			Valid: "a deallocated VM has no traffic to analyse (start it, or pick another VM)"}
	}
	if ip.IsValid() {
		for _, t := range ts {
			if t.IPConfig().PrivateIP == ip {
				return t, nil
			}
		}
		return engine.Target{}, &engine.InputError{Field: "local", Problem: "local IP " + ip.String() + " is not on VM " + quote(vm), Valid: "its addresses: " + addrList(ts)}
	}
	n := v.PrimaryNIC()
	if nic != "" {
		n = ts[0].IPConfig().NIC
	}
	want := n.PrimaryIPConfig()
	for _, t := range ts {
		if t.IPConfig() == want {
			return t, nil
		}
	}
	return ts[0], nil
}

func addrList(ts []engine.Target) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.IPConfig().PrivateIP.String())
	}
	return shortList(parts, 8)
}

func quote(s string) string { return strconv.Quote(s) }
