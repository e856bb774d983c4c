package analysis

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	"ipflow/engine"
	"ipflow/model"
)

// ReachQuery asks who can reach a VM's port (inbound) or where a VM may send to a port
// (outbound).
type ReachQuery struct {
	VM        string
	NIC       string     // optional: the NIC (its primary IP configuration); default the VM's primary NIC
	IP        netip.Addr // optional: the IP configuration holding this address
	Direction model.Direction
	Protocol  model.Protocol
	// Ports are the local (destination) ports inbound, the remote (destination) ports
	// outbound. Ignored for ICMP, ESP and AH, which have none.
	Ports model.PortRange
}

// Reach is the answer: the query's flow space split by deciding rule, allowed parts first.
type Reach struct {
	Query   ReachQuery
	Target  engine.Target
	Allowed []Entry // ordered by layer, then rule priority
	Denied  []Entry
}

// Entry is a part of the space that one rule decides: every flow from (inbound) or to
// (outbound) an address in Remote, with a remote port in RemotePorts and a local port in
// LocalPorts. Contains names what Remote holds in the estate as a whole, Parts what each of its
// prefixes holds (AddrSet.Prefixes' order). Decision.Matched is left empty:
// the rules matched in earlier layers may differ within an entry; the deciding rule does not.
type Entry struct {
	Remote      AddrSet
	RemotePorts PortSet
	LocalPorts  PortSet
	Decision
	Contains []string
	Parts    []Part
}

// Reach answers a ReachQuery exactly. Errors are *engine.InputError (unknown VM or NIC, a
// deallocated VM, a protocol that is not a flow protocol).
func (a *Analyzer) Reach(q ReachQuery) (*Reach, error) {
	if q.Protocol == model.AnyProtocol || q.Protocol > model.AH {
		return nil, &engine.InputError{Field: "protocol", Problem: "protocol " + q.Protocol.String() + " is not a flow protocol", Valid: "must be one of tcp, udp, icmp, esp, ah"}
	}
	if q.Direction > model.Outbound {
		return nil, &engine.InputError{Field: "direction", Problem: "not a direction", Valid: "must be inbound or outbound"}
	}
	t, err := a.target(q.VM, q.NIC, q.IP)
	if err != nil {
		return nil, err
	}
	space := Everything()
	space.Protocols = ProtocolSet(q.Protocol)
	if q.Protocol.HasPorts() {
		ports := PortSet{ivs{span(uint32(q.Ports.Lo), uint32(q.Ports.Hi))}}
		if q.Direction == model.Inbound {
			space.LocalPorts = ports
		} else {
			space.RemotePorts = ports
		}
	}
	regions := Partition(t, q.Direction, space)
	r := &Reach{Query: q, Target: t}
	d := a.describer(t)
	for _, e := range groupByRule(regions) {
		e.Contains, e.Parts = d.contains(e.Remote.s), d.parts(e.Remote)
		if e.Access == model.Deny {
			r.Denied = append(r.Denied, e)
		} else {
			r.Allowed = append(r.Allowed, e)
		}
	}
	return r, nil
}

// ruleKey identifies a decision by its verdict and deciding rule (not the whole path).
type ruleKey struct {
	access model.Access
	rule   *model.Rule
	layer  *engine.Layer
}

// groupByRule merges regions with the same verdict and deciding rule into as few entries as
// their shapes allow, ordered by the deciding layer's place and the rule's priority.
func groupByRule(regions []Region) []Entry {
	groups := map[ruleKey][]rawBox{}
	var order []ruleKey
	first := map[ruleKey]Decision{}
	for _, r := range regions {
		k := ruleKey{r.Access, r.Rule, r.Layer}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
			first[k] = r.Decision
		}
		groups[k] = append(groups[k], rawBox{r.LocalPorts.s, r.RemotePorts.s, r.Remote.s})
	}
	slices.SortStableFunc(order, func(x, y ruleKey) int {
		return cmp.Or(cmp.Compare(layerRank(x.layer), layerRank(y.layer)), cmp.Compare(priority(x.rule), priority(y.rule)))
	})
	var out []Entry
	for _, k := range order {
		dec := first[k]
		dec.Matched = [3]*model.Rule{} // the path may differ inside a group; the rule does not
		for _, b := range mergeBoxes(groups[k]) {
			out = append(out, Entry{Remote: AddrSet{b[dimRemote]}, RemotePorts: PortSet{b[dimRPort]}, LocalPorts: PortSet{b[dimLocal]}, Decision: dec})
		}
	}
	return out
}

func layerRank(l *engine.Layer) int {
	if l == nil {
		return -1
	}
	return int(l.Kind)
}

func priority(r *model.Rule) int {
	if r == nil {
		return -1
	}
	return r.Priority
}

// rawBox is a box's three interval dimensions (local ports, remote ports, remote addresses).
type rawBox [3]ivs

// mergeBoxes unions boxes that agree in all dimensions but one, until none do: the same set
// of flows in fewer, larger boxes.
func mergeBoxes(bs []rawBox) []rawBox {
	for {
		n := len(bs)
		var buf []byte // one key buffer: a lookup by string(buf) does not allocate
		for k := range 3 {
			index := make(map[string]int, len(bs))
			out := make([]rawBox, 0, len(bs))
			for _, b := range bs {
				buf = appendBoxKey(buf[:0], b, k)
				if i, ok := index[string(buf)]; ok {
					out[i][k] = out[i][k].union(b[k])
					continue
				}
				index[string(buf)] = len(out)
				out = append(out, b)
			}
			bs = out
		}
		if len(bs) == n {
			return bs
		}
	}
}

// appendBoxKey appends the key of b's sides other than skip to buf.
func appendBoxKey(buf []byte, b rawBox, skip int) []byte {
	for k := range 3 {
		if k == skip {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(len(b[k])))
		for _, r := range b[k] {
			buf = binary.BigEndian.AppendUint32(buf, r.Lo)
			buf = binary.BigEndian.AppendUint32(buf, r.Hi)
		}
	}
	return buf
}
