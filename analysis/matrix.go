package analysis

import (
	"net/netip"

	"ipflow/engine"
	"ipflow/model"
)

// MatrixQuery asks, for every ordered pair of VMs, whether a flow from the first can reach the
// second's port.
type MatrixQuery struct {
	Protocol model.Protocol
	Port     uint16   // the destination port; ignored for ICMP, ESP and AH
	VMs      []string // the VMs, rows and columns in this order; nil for every VM of the estate
}

// Matrix is the answer: Cells[i][j] is the flow from VMs[i] to VMs[j].
type Matrix struct {
	Query MatrixQuery
	VMs   []MatrixVM
	Cells [][]Cell
}

// MatrixVM is a row and column: a VM and the IP configuration that stands for it (its primary
// NIC's primary IP configuration: the address its flows come from and go to).
type MatrixVM struct {
	VM     *model.VM
	Target engine.Target // zero when the VM has no IP configuration in a subnet
	Ok     bool          // Target is valid and the VM is allocated
}

// CellState is the answer of a cell.
type CellState uint8

const (
	Denied    CellState = iota // no flow gets through
	Allowed                    // every source port gets through
	Partly                     // some source ports get through (rules restrict source ports)
	NotPaired                  // the same VM, or a VM that is deallocated or has no address
)

// Cell is one flow of the matrix. A flow needs the source's outbound evaluation and the
// destination's inbound evaluation to allow it (NSGs are stateful: the reply needs no rule).
type Cell struct {
	State CellState
	// SourcePorts are the source ports from which both sides allow the flow (TCP and UDP).
	SourcePorts PortSet
	// Out and In are the decisions of the source's outbound and the destination's inbound
	// evaluation at SourcePort: the lowest allowed source port, or 0 when none is.
	Out, In    Decision
	SourcePort uint16
}

// Matrix answers a MatrixQuery exactly. Errors are *engine.InputError (an unknown VM, a
// protocol that is not a flow protocol).
func (a *Analyzer) Matrix(q MatrixQuery) (*Matrix, error) {
	if q.Protocol == model.AnyProtocol || q.Protocol > model.AH {
		return nil, &engine.InputError{Field: "protocol", Problem: "protocol " + q.Protocol.String() + " is not a flow protocol", Valid: "must be one of tcp, udp, icmp, esp, ah"}
	}
	m := &Matrix{Query: q}
	vms := a.env.VMs
	if q.VMs != nil {
		vms = nil
		for _, name := range q.VMs {
			ts, err := a.e.VMTargets(name, "")
			if err != nil {
				return nil, err
			}
			vms = append(vms, ts[0].IPConfig().NIC.VM)
		}
	}
	type side struct{ out, in []Region }
	sides := make([]side, len(vms))
	for i, vm := range vms {
		mv := MatrixVM{VM: vm}
		if t, err := a.target(vm.Name, "", netip.Addr{}); err == nil {
			mv.Target, mv.Ok = t, true
			out, in := Everything(), Everything()
			out.Protocols, in.Protocols = ProtocolSet(q.Protocol), ProtocolSet(q.Protocol)
			if q.Protocol.HasPorts() {
				port := PortSet{ivs{span(uint32(q.Port), uint32(q.Port))}}
				out.RemotePorts, in.LocalPorts = port, port
			}
			sides[i] = side{Partition(t, model.Outbound, out), Partition(t, model.Inbound, in)}
		}
		m.VMs = append(m.VMs, mv)
	}
	m.Cells = make([][]Cell, len(vms))
	for i := range m.VMs {
		m.Cells[i] = make([]Cell, len(vms))
		for j := range m.VMs {
			if i == j || !m.VMs[i].Ok || !m.VMs[j].Ok {
				m.Cells[i][j] = Cell{State: NotPaired}
				continue
			}
			src, dst := engine.AddrBits(m.VMs[i].Target.IPConfig().PrivateIP), engine.AddrBits(m.VMs[j].Target.IPConfig().PrivateIP)
			m.Cells[i][j] = cell(sides[i].out, sides[j].in, dst, src, q.Protocol.HasPorts())
		}
	}
	return m, nil
}

// cell combines the source's outbound regions at the destination address (source port = local
// port there) with the destination's inbound regions at the source address (source port =
// remote port there).
func cell(out, in []Region, dst, src uint32, ports bool) Cell {
	var okOut, okIn ivs
	for _, r := range out {
		if r.Access == model.Allow && r.Remote.s.contains(dst) {
			okOut = okOut.union(r.LocalPorts.s)
		}
	}
	for _, r := range in {
		if r.Access == model.Allow && r.Remote.s.contains(src) {
			okIn = okIn.union(r.RemotePorts.s)
		}
	}
	c := Cell{SourcePorts: PortSet{okOut.intersect(okIn)}}
	switch {
	case c.SourcePorts.Empty():
		c.State = Denied
	case !ports || c.SourcePorts.All():
		c.State = Allowed
	default:
		c.State = Partly
	}
	if !c.SourcePorts.Empty() {
		c.SourcePort = uint16(c.SourcePorts.s[0].Lo)
	}
	at := func(rs []Region, addr uint32, remotePort bool) Decision {
		for _, r := range rs {
			p := r.LocalPorts
			if remotePort {
				p = r.RemotePorts
			}
			if r.Remote.s.contains(addr) && (!ports || p.Contains(c.SourcePort)) {
				return r.Decision
			}
		}
		return Decision{}
	}
	c.Out, c.In = at(out, dst, false), at(in, src, true)
	return c
}
