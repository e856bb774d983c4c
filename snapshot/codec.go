package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"ipflow/model"
)

// The payload is the loaded, validated estate (model.Environment) in a compact binary form:
// every string once in a table, every reference between resources an index, every list a
// length. Lengths are written +1 so that nil and empty slices stay apart (an admin rule's nil
// VNets means every VNet). Decoding allocates each kind of resource as one array, so that a
// 10,000-VM estate decodes in a few dozen allocations.

// encoder writes a payload.
type encoder struct {
	b       []byte
	strs    map[string]uint32
	strList []string

	// sizes of the decoder's shared arrays
	nPrefixes, nAddrs, nPorts int

	vnets   map[*model.VNet]int
	subnets map[*model.Subnet]int
	nsgs    map[*model.NSG]int
	asgs    map[*model.ASG]int
	ipcs    map[*model.IPConfig]int
}

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int)     { e.b = binary.AppendVarint(e.b, int64(v)) }
func (e *encoder) byte(v uint8)  { e.b = append(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

// length writes a slice's length, 0 for nil.
func (e *encoder) length(n int, isNil bool) {
	if isNil {
		e.uint(0)
	} else {
		e.uint(uint64(n) + 1)
	}
}

func (e *encoder) str(s string) {
	id, ok := e.strs[s]
	if !ok {
		id = uint32(len(e.strList))
		e.strs[s] = id
		e.strList = append(e.strList, s)
	}
	e.uint(uint64(id))
}

func (e *encoder) pos(p model.Pos) {
	e.str(p.File)
	e.int(p.Line)
}

func (e *encoder) addr(a netip.Addr) {
	switch {
	case a.Is4():
		e.byte(4)
		v := a.As4()
		e.b = append(e.b, v[:]...)
	case a.IsValid():
		e.byte(16)
		v := a.As16()
		e.b = append(e.b, v[:]...)
		e.str(a.Zone())
	default:
		e.byte(0)
	}
}

func (e *encoder) prefix(p netip.Prefix) {
	e.addr(p.Addr())
	e.int(p.Bits())
}

func (e *encoder) prefixes(ps []netip.Prefix) {
	e.length(len(ps), ps == nil)
	e.nPrefixes += len(ps)
	for _, p := range ps {
		e.prefix(p)
	}
}

// ref writes an index into a table, or 0 for nil.
func ref[T comparable](e *encoder, m map[T]int, v T) {
	var zero T
	if v == zero {
		e.uint(0)
		return
	}
	i, ok := m[v]
	if !ok {
		panic("snapshot: a reference to a resource outside the environment") // a model bug; Encode recovers
	}
	e.uint(uint64(i) + 1)
}

func refs[T comparable](e *encoder, m map[T]int, vs []T) {
	e.length(len(vs), vs == nil)
	for _, v := range vs {
		ref(e, m, v)
	}
}

func (e *encoder) rule(r *model.Rule) {
	e.str(r.Name)
	e.byte(uint8(r.Kind))
	e.int(r.Priority)
	e.byte(uint8(r.Direction))
	e.byte(uint8(r.Access))
	e.byte(uint8(r.Protocol))
	e.side(&r.Source)
	e.side(&r.Destination)
	e.str(r.Description)
	e.pos(r.Pos)
}

func (e *encoder) side(s *model.Side) {
	e.length(len(s.Addresses), s.Addresses == nil)
	e.nAddrs += len(s.Addresses)
	for _, a := range s.Addresses {
		e.byte(uint8(a.Kind))
		e.prefix(a.Prefix)
		e.str(a.Tag)
	}
	refs(e, e.asgs, s.ASGs)
	e.length(len(s.Ports), s.Ports == nil)
	e.nPorts += len(s.Ports)
	for _, p := range s.Ports {
		e.uint(uint64(p.Lo))
		e.uint(uint64(p.Hi))
	}
}

// counts are the sizes of the resource arrays, written first so that decoding allocates once.
type counts struct {
	vnets, subnets, nsgs, rules, asgs, vms, nics, ipcs, admin int
}

// encodePayload writes env. It panics on a reference to a resource outside env (a model bug).
func encodePayload(env *model.Environment) []byte {
	e := &encoder{strs: map[string]uint32{},
		vnets: map[*model.VNet]int{}, subnets: map[*model.Subnet]int{}, nsgs: map[*model.NSG]int{},
		asgs: map[*model.ASG]int{}, ipcs: map[*model.IPConfig]int{}}
	var c counts
	for i, v := range env.VNets {
		e.vnets[v] = i
		for _, s := range v.Subnets {
			e.subnets[s] = c.subnets
			c.subnets++
		}
	}
	for i, g := range env.NSGs {
		e.nsgs[g] = i
		c.rules += len(g.Rules)
	}
	for i, a := range env.ASGs {
		e.asgs[a] = i
	}
	for _, vm := range env.VMs {
		for _, n := range vm.NICs {
			c.nics++
			for _, ipc := range n.IPConfigs {
				e.ipcs[ipc] = c.ipcs
				c.ipcs++
			}
		}
	}
	c.vnets, c.nsgs, c.asgs, c.vms, c.admin = len(env.VNets), len(env.NSGs), len(env.ASGs), len(env.VMs), len(env.AdminRules)

	for _, n := range []int{c.vnets, c.subnets, c.nsgs, c.rules, c.asgs, c.vms, c.nics, c.ipcs, c.admin} {
		e.uint(uint64(n))
	}
	e.str(env.Name)
	e.str(env.Description)
	e.length(len(env.Files), env.Files == nil)
	for _, f := range env.Files {
		e.str(f)
	}
	e.length(len(env.ServiceTags), env.ServiceTags == nil)
	tags := make([]string, 0, len(env.ServiceTags))
	for t := range env.ServiceTags {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	for _, t := range tags {
		e.str(t)
		e.prefixes(env.ServiceTags[t])
	}
	e.length(len(env.VNets), env.VNets == nil)
	for _, v := range env.VNets {
		e.str(v.Name)
		e.prefixes(v.AddressSpace)
		refs(e, e.vnets, v.Peers)
		e.prefixes(v.OnPremPrefixes)
		e.length(len(v.Subnets), v.Subnets == nil)
		for _, s := range v.Subnets {
			if s.VNet != v {
				panic("snapshot: a subnet whose VNet is not the one that holds it")
			}
			e.str(s.Name)
			e.prefix(s.Prefix)
			ref(e, e.nsgs, s.NSG)
			e.prefixes(s.Routes)
			e.pos(s.Pos)
		}
		e.pos(v.Pos)
	}
	e.length(len(env.NSGs), env.NSGs == nil)
	for _, g := range env.NSGs {
		e.str(g.Name)
		e.length(len(g.Rules), g.Rules == nil)
		for _, r := range g.Rules {
			e.rule(r)
		}
		e.str(g.ResourceGroup)
		e.pos(g.Pos)
	}
	e.length(len(env.ASGs), env.ASGs == nil)
	for _, a := range env.ASGs {
		e.str(a.Name)
		refs(e, e.ipcs, a.Members)
		e.pos(a.Pos)
	}
	e.length(len(env.VMs), env.VMs == nil)
	for _, vm := range env.VMs {
		e.str(vm.Name)
		e.byte(uint8(vm.PowerState))
		e.length(len(vm.NICs), vm.NICs == nil)
		for _, n := range vm.NICs {
			if n.VM != vm {
				panic("snapshot: a NIC whose VM is not the one that holds it")
			}
			e.str(n.Name)
			ref(e, e.nsgs, n.NSG)
			e.bool(n.Primary)
			e.bool(n.IPForwarding)
			e.length(len(n.IPConfigs), n.IPConfigs == nil)
			for _, ipc := range n.IPConfigs {
				if ipc.NIC != n {
					panic("snapshot: an IP configuration whose NIC is not the one that holds it")
				}
				e.str(ipc.Name)
				e.addr(ipc.PrivateIP)
				ref(e, e.subnets, ipc.Subnet)
				refs(e, e.asgs, ipc.ASGs)
				e.bool(ipc.Primary)
			}
			e.pos(n.Pos)
		}
		e.pos(vm.Pos)
	}
	e.length(len(env.AdminRules), env.AdminRules == nil)
	for _, a := range env.AdminRules {
		e.rule(&a.Rule)
		refs(e, e.vnets, a.VNets)
		e.str(a.ResourceGroup)
	}
	e.length(len(env.Warnings), env.Warnings == nil)
	for _, w := range env.Warnings {
		e.pos(w.Pos)
		e.str(w.Resource)
		e.str(w.Message)
		e.int(w.Omitted)
	}

	// The string table goes first (lengths, then the bytes), then the sizes of the shared arrays.
	var head []byte
	head = binary.AppendUvarint(head, uint64(len(e.strList)))
	total := 0
	for _, s := range e.strList {
		head = binary.AppendUvarint(head, uint64(len(s)))
		total += len(s)
	}
	out := make([]byte, 0, len(head)+total+len(e.b))
	out = append(out, head...)
	for _, s := range e.strList {
		out = append(out, s...)
	}
	for _, n := range []int{e.nPrefixes, e.nAddrs, e.nPorts} {
		out = binary.AppendUvarint(out, uint64(n))
	}
	return append(out, e.b...)
}

// errBad is any payload that does not decode: the snapshot is then ignored.
var errBad = errors.New("snapshot: malformed payload")

// decoder reads a payload. Every read is bounds-checked; the first problem sets err and every
// later read returns zero values, so the decoding functions need no error plumbing.
type decoder struct {
	b    []byte
	i    int
	err  error
	strs []string

	vnets   []model.VNet
	subnets []model.Subnet
	nsgs    []model.NSG
	asgs    []model.ASG
	ipcs    []model.IPConfig
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errBad
	}
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) int() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 || v != int64(int(v)) {
		d.fail()
		return 0
	}
	d.i += n
	return int(v)
}

func (d *decoder) byte() uint8 {
	if d.err != nil || d.i >= len(d.b) {
		d.fail()
		return 0
	}
	d.i++
	return d.b[d.i-1]
}

// enum reads a byte that must be at most max.
func (d *decoder) enum(max uint8) uint8 {
	v := d.byte()
	if v > max {
		d.fail()
		return 0
	}
	return v
}

func (d *decoder) bool() bool { return d.enum(1) == 1 }

// length reads a slice length written by encoder.length; isNil for a nil slice. A length is
// never more than the bytes left (each element takes at least one byte), which bounds every
// allocation by the snapshot's size.
func (d *decoder) length() (n int, isNil bool) {
	v := d.uint()
	if v == 0 {
		return 0, true
	}
	if v-1 > uint64(len(d.b)-d.i) {
		d.fail()
		return 0, true
	}
	return int(v - 1), false
}

func (d *decoder) str() string {
	id := d.uint()
	if id >= uint64(len(d.strs)) {
		d.fail()
		return ""
	}
	return d.strs[id]
}

func (d *decoder) pos() model.Pos { return model.Pos{File: d.str(), Line: d.int()} }

func (d *decoder) addr() netip.Addr {
	switch d.byte() {
	case 0:
		return netip.Addr{}
	case 4:
		if d.i+4 > len(d.b) {
			d.fail()
			return netip.Addr{}
		}
		a := netip.AddrFrom4([4]byte(d.b[d.i : d.i+4]))
		d.i += 4
		return a
	case 16:
		if d.i+16 > len(d.b) {
			d.fail()
			return netip.Addr{}
		}
		a := netip.AddrFrom16([16]byte(d.b[d.i : d.i+16]))
		d.i += 16
		return a.WithZone(d.str())
	}
	d.fail()
	return netip.Addr{}
}

func (d *decoder) prefix() netip.Prefix {
	a, bits := d.addr(), d.int()
	if !a.IsValid() {
		if bits != -1 { // the zero Prefix's Bits
			d.fail()
		}
		return netip.Prefix{}
	}
	p := netip.PrefixFrom(a, bits)
	if !p.IsValid() {
		d.fail()
	}
	return p
}

// prefixes reads a list of prefixes into the shared array pool.
func (d *decoder) prefixes(pool *[]netip.Prefix) []netip.Prefix {
	n, isNil := d.length()
	if isNil {
		return nil
	}
	start := len(*pool)
	for range n {
		*pool = append(*pool, d.prefix())
	}
	return (*pool)[start:len(*pool):len(*pool)]
}

// index reads a reference written by ref: nil (false) or an index below n.
func (d *decoder) index(n int) (int, bool) {
	v := d.uint()
	if v == 0 {
		return 0, false
	}
	if v > uint64(n) {
		d.fail()
		return 0, false
	}
	return int(v - 1), true
}

func decodeRefs[T any](d *decoder, table []T) []*T {
	n, isNil := d.length()
	if isNil {
		return nil
	}
	out := make([]*T, n)
	for i := range out {
		j, ok := d.index(len(table))
		if !ok {
			d.fail() // lists never hold nil
			return nil
		}
		out[i] = &table[j]
	}
	return out
}

// pools are the arrays that the decoded slices share.
type pools struct {
	prefixes []netip.Prefix
	addrs    []model.Address
	ports    []model.PortRange
}

func (d *decoder) rule(r *model.Rule, p *pools) {
	r.Name = d.str()
	r.Kind = model.RuleKind(d.enum(uint8(model.AdminRuleKind)))
	r.Priority = d.int()
	r.Direction = model.Direction(d.enum(uint8(model.Outbound)))
	r.Access = model.Access(d.enum(uint8(model.AlwaysAllow)))
	r.Protocol = model.Protocol(d.enum(uint8(model.AH)))
	d.side(&r.Source, p)
	d.side(&r.Destination, p)
	r.Description = d.str()
	r.Pos = d.pos()
}

func (d *decoder) side(s *model.Side, p *pools) {
	if n, isNil := d.length(); !isNil {
		start := len(p.addrs)
		for range n {
			p.addrs = append(p.addrs, model.Address{Kind: model.AddressKind(d.enum(uint8(model.TagAddress))), Prefix: d.prefix(), Tag: d.str()})
		}
		s.Addresses = p.addrs[start:len(p.addrs):len(p.addrs)]
	}
	s.ASGs = decodeRefs(d, d.asgs)
	if n, isNil := d.length(); !isNil {
		start := len(p.ports)
		for range n {
			lo, hi := d.uint(), d.uint()
			if lo > hi || hi > 65535 {
				d.fail()
			}
			p.ports = append(p.ports, model.PortRange{Lo: uint16(lo), Hi: uint16(hi)})
		}
		s.Ports = p.ports[start:len(p.ports):len(p.ports)]
	}
}

// decodePayload reads what encodePayload wrote. It returns errBad for anything else, and never
// panics on any input (the fuzz test checks).
func decodePayload(b []byte) (env *model.Environment, err error) {
	d := &decoder{b: b}
	// The string table: one string holds every string's bytes; the table slices it.
	nstr := d.uint()
	if nstr > uint64(len(b)) {
		return nil, errBad
	}
	lens := make([]int, nstr)
	total := uint64(0)
	for i := range lens {
		l := d.uint()
		total += l
		if total > uint64(len(b)) {
			return nil, errBad
		}
		lens[i] = int(l)
	}
	if d.err != nil || uint64(len(b)-d.i) < total {
		return nil, errBad
	}
	blob := string(b[d.i : d.i+int(total)])
	d.i += int(total)
	d.strs = make([]string, nstr)
	off := 0
	for i, l := range lens {
		d.strs[i] = blob[off : off+l]
		off += l
	}

	var p pools
	var sizes [3]int
	for i := range sizes {
		v := d.uint()
		if v > uint64(len(b)) { // every element takes more than a byte
			return nil, errBad
		}
		sizes[i] = int(v)
	}
	p.prefixes = make([]netip.Prefix, 0, sizes[0])
	p.addrs = make([]model.Address, 0, sizes[1])
	p.ports = make([]model.PortRange, 0, sizes[2])

	var c counts
	for _, p := range []*int{&c.vnets, &c.subnets, &c.nsgs, &c.rules, &c.asgs, &c.vms, &c.nics, &c.ipcs, &c.admin} {
		v := d.uint()
		if v > uint64(len(b)) { // every resource takes more than a byte
			return nil, errBad
		}
		*p = int(v)
	}
	if d.err != nil {
		return nil, errBad
	}
	d.vnets = make([]model.VNet, c.vnets)
	d.subnets = make([]model.Subnet, c.subnets)
	d.nsgs = make([]model.NSG, c.nsgs)
	d.asgs = make([]model.ASG, c.asgs)
	d.ipcs = make([]model.IPConfig, c.ipcs)
	rules := make([]model.Rule, c.rules)
	vms := make([]model.VM, c.vms)
	nics := make([]model.NIC, c.nics)
	admin := make([]model.AdminRule, c.admin)

	env = &model.Environment{Name: d.str(), Description: d.str()}
	if n, isNil := d.length(); !isNil {
		env.Files = make([]string, n)
		for i := range env.Files {
			env.Files[i] = d.str()
		}
	}
	if n, isNil := d.length(); !isNil {
		env.ServiceTags = make(map[string][]netip.Prefix, n)
		for range n {
			t := d.str()
			env.ServiceTags[t] = d.prefixes(&p.prefixes)
		}
	}

	// Each kind's list must use its whole array, in order: then every back pointer (a subnet's
	// VNet, a NIC's VM, an IP configuration's NIC) is the container it is read in.
	next := map[string]int{}
	take := func(kind string, n, max int) (int, bool) {
		at := next[kind]
		if d.err != nil || n > max-at {
			d.fail()
			return 0, false
		}
		next[kind] = at + n
		return at, true
	}
	if n, isNil := d.length(); !isNil {
		if _, ok := take("vnet", n, c.vnets); !ok {
			return nil, errBad
		}
		env.VNets = make([]*model.VNet, n)
		subnetPtrs := make([]*model.Subnet, 0, c.subnets)
		for i := range env.VNets {
			v := &d.vnets[i]
			env.VNets[i] = v
			v.Name = d.str()
			v.AddressSpace = d.prefixes(&p.prefixes)
			v.Peers = decodeRefs(d, d.vnets)
			v.OnPremPrefixes = d.prefixes(&p.prefixes)
			if ns, isNil := d.length(); !isNil {
				at, ok := take("subnet", ns, c.subnets)
				if !ok {
					return nil, errBad
				}
				start := len(subnetPtrs)
				for j := range ns {
					s := &d.subnets[at+j]
					subnetPtrs = append(subnetPtrs, s)
					s.Name = d.str()
					s.VNet = v
					s.Prefix = d.prefix()
					if k, ok := d.index(len(d.nsgs)); ok {
						s.NSG = &d.nsgs[k]
					}
					s.Routes = d.prefixes(&p.prefixes)
					s.Pos = d.pos()
				}
				v.Subnets = subnetPtrs[start:len(subnetPtrs):len(subnetPtrs)]
			}
			v.Pos = d.pos()
		}
	}
	if n, isNil := d.length(); !isNil {
		if _, ok := take("nsg", n, c.nsgs); !ok {
			return nil, errBad
		}
		env.NSGs = make([]*model.NSG, n)
		rulePtrs := make([]*model.Rule, 0, c.rules)
		for i := range env.NSGs {
			g := &d.nsgs[i]
			env.NSGs[i] = g
			g.Name = d.str()
			if nr, isNil := d.length(); !isNil {
				at, ok := take("rule", nr, c.rules)
				if !ok {
					return nil, errBad
				}
				start := len(rulePtrs)
				for j := range nr {
					r := &rules[at+j]
					d.rule(r, &p)
					rulePtrs = append(rulePtrs, r)
				}
				g.Rules = rulePtrs[start:len(rulePtrs):len(rulePtrs)]
			}
			g.ResourceGroup = d.str()
			g.Pos = d.pos()
		}
	}
	if n, isNil := d.length(); !isNil {
		if _, ok := take("asg", n, c.asgs); !ok {
			return nil, errBad
		}
		env.ASGs = make([]*model.ASG, n)
		for i := range env.ASGs {
			a := &d.asgs[i]
			env.ASGs[i] = a
			a.Name = d.str()
			a.Members = decodeRefs(d, d.ipcs)
			a.Pos = d.pos()
		}
	}
	if n, isNil := d.length(); !isNil {
		if _, ok := take("vm", n, c.vms); !ok {
			return nil, errBad
		}
		env.VMs = make([]*model.VM, n)
		nicPtrs := make([]*model.NIC, 0, c.nics)
		ipcPtrs := make([]*model.IPConfig, 0, c.ipcs)
		for i := range env.VMs {
			vm := &vms[i]
			env.VMs[i] = vm
			vm.Name = d.str()
			vm.PowerState = model.PowerState(d.enum(uint8(model.Deallocated)))
			if nn, isNil := d.length(); !isNil {
				at, ok := take("nic", nn, c.nics)
				if !ok {
					return nil, errBad
				}
				start := len(nicPtrs)
				for j := range nn {
					nic := &nics[at+j]
					nicPtrs = append(nicPtrs, nic)
					nic.Name = d.str()
					nic.VM = vm
					if k, ok := d.index(len(d.nsgs)); ok {
						nic.NSG = &d.nsgs[k]
					}
					nic.Primary = d.bool()
					nic.IPForwarding = d.bool()
					if nc, isNil := d.length(); !isNil {
						at, ok := take("ipc", nc, c.ipcs)
						if !ok {
							return nil, errBad
						}
						istart := len(ipcPtrs)
						for k := range nc {
							ipc := &d.ipcs[at+k]
							ipcPtrs = append(ipcPtrs, ipc)
							ipc.Name = d.str()
							ipc.NIC = nic
							ipc.PrivateIP = d.addr()
							s, ok := d.index(len(d.subnets))
							if !ok {
								d.fail() // an IP configuration is always in a subnet
								return nil, errBad
							}
							ipc.Subnet = &d.subnets[s]
							ipc.ASGs = decodeRefs(d, d.asgs)
							ipc.Primary = d.bool()
						}
						nic.IPConfigs = ipcPtrs[istart:len(ipcPtrs):len(ipcPtrs)]
					}
					nic.Pos = d.pos()
				}
				vm.NICs = nicPtrs[start:len(nicPtrs):len(nicPtrs)]
			}
			vm.Pos = d.pos()
		}
	}
	if n, isNil := d.length(); !isNil {
		if _, ok := take("admin", n, c.admin); !ok {
			return nil, errBad
		}
		env.AdminRules = make([]*model.AdminRule, n)
		for i := range env.AdminRules {
			a := &admin[i]
			env.AdminRules[i] = a
			d.rule(&a.Rule, &p)
			a.VNets = decodeRefs(d, d.vnets)
			a.ResourceGroup = d.str()
		}
	}
	if n, isNil := d.length(); !isNil {
		env.Warnings = make([]model.Issue, n)
		for i := range env.Warnings {
			env.Warnings[i] = model.Issue{Pos: d.pos(), Resource: d.str(), Message: d.str(), Omitted: d.int()}
		}
	}
	if d.err != nil || d.i != len(b) {
		return nil, errBad
	}
	// Every array is used whole: no resource is left unlinked, none is shared by two lists.
	for kind, want := range map[string]int{"vnet": c.vnets, "subnet": c.subnets, "nsg": c.nsgs, "rule": c.rules,
		"asg": c.asgs, "vm": c.vms, "nic": c.nics, "ipc": c.ipcs, "admin": c.admin} {
		if next[kind] != want {
			return nil, fmt.Errorf("%w: %s", errBad, kind)
		}
	}
	return env, nil
}
