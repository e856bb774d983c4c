package engine

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"ipflow/model"
)

// Field is one of the five checks of a rule against a flow, as NSG diagnostics reports them.
type Field uint8

const (
	FieldProtocol Field = iota
	FieldSource
	FieldSourcePort
	FieldDestination
	FieldDestinationPort
	// FieldCount is the number of checks: `for f := range FieldCount` visits them in Azure's
	// order, and [FieldCount]T holds one T per check.
	FieldCount
)

var fieldNames = [FieldCount]string{"protocol", "source", "source port", "destination", "destination port"}

func (f Field) String() string {
	if f < FieldCount {
		return fieldNames[f]
	}
	return "?"
}

// Fields is the set of checks that passed.
type Fields uint8

const allFields Fields = 1<<FieldCount - 1

// Has reports whether check f passed.
func (m Fields) Has(f Field) bool { return m&(1<<f) != 0 }

// All reports whether every check passed: the rule matches.
func (m Fields) All() bool { return m&allFields == allFields }

// FirstFailed is the first check that failed, in Azure's order.
func (m Fields) FirstFailed() (Field, bool) {
	failed := ^m & allFields
	if failed == 0 {
		return 0, false
	}
	return Field(bits.TrailingZeros8(uint8(failed))), true
}

// RuleCheck is one rule tried against the flow.
type RuleCheck struct {
	Rule   *model.Rule
	Fields Fields
}

// LayerStatus says whether a layer took part in the evaluation.
type LayerStatus uint8

const (
	Evaluated  LayerStatus = iota
	NoNSG                  // no NSG is associated at this level: it allows
	NotReached             // an earlier layer decided
)

// LayerTrace is one layer of the evaluation with every rule tried.
type LayerTrace struct {
	*Layer
	Direction model.Direction
	Status    LayerStatus
	Reason    string // for NoNSG and NotReached: why, in words
	// Tried holds the checks of the rules tried, in evaluation order, up to and including the
	// first match: Tried[i] is for Rules()[i]. (Fields, not pointers: a trace of a 1000-rule
	// NSG stays one small pointer-free allocation.)
	Tried []Fields
	Match int // index in Tried of the rule that matched; -1 when none did
}

// Rules are all the layer's rules of the flow's direction, in evaluation order; the first
// len(Tried) were tried, the rest were not evaluated.
func (l *LayerTrace) Rules() []*model.Rule { return l.Layer.Rules(l.Direction) }

// Check is the i-th rule tried with its five checks.
func (l *LayerTrace) Check(i int) RuleCheck { return RuleCheck{l.Rules()[i], l.Tried[i]} }

// Matched is the rule that matched in this layer, or nil.
func (l *LayerTrace) Matched() *model.Rule {
	if l.Match < 0 {
		return nil
	}
	return l.Rules()[l.Match]
}

// Result is a verdict with its full trace.
type Result struct {
	Flow     Flow // as evaluated: NIC filled in
	VM       *model.VM
	NIC      *model.NIC
	IPConfig *model.IPConfig
	Verdict
	Layers []LayerTrace // every layer in evaluation order, evaluated or not
	Notes  []string

	t    *target
	cf   cflow
	tags map[string][]netip.Prefix // the environment's custom service tags, for explanations
}

// Verify evaluates a flow and returns the verdict with its full trace.
func (e *Engine) Verify(f Flow) (*Result, error) {
	t, err := e.resolve(&f)
	if err != nil {
		return nil, err
	}
	nicGiven := f.NIC != ""
	f.NIC = t.ipc.NIC.Name
	res := &Result{Flow: f, VM: t.ipc.NIC.VM, NIC: t.ipc.NIC, IPConfig: t.ipc, t: t, cf: compileFlow(&f), tags: e.env.ServiceTags}
	res.Access = model.Allow
	cf := &res.cf
	decided := "" // who decided, for the reason of the layers after it
	trace := func(l *Layer, slot int) *LayerTrace {
		d := f.Direction
		rs := &l.table.dirs[d]
		lt := LayerTrace{Layer: l, Direction: d}
		if rs.index != nil {
			lt.Tried, lt.Match = rs.index.tryAll(rs.hot, rs.rules, cf, t, t.local[d][slot])
		} else {
			lt.Tried, lt.Match = tryAll(rs.hot, rs.rules, cf, t)
		}
		res.Layers = append(res.Layers, lt)
		return &res.Layers[len(res.Layers)-1]
	}
	if t.admin != nil {
		lt := trace(t.admin, 0)
		if r := lt.Matched(); r != nil {
			res.Verdict = Verdict{model.Allow, r, t.admin}
			switch r.Access {
			case model.Deny:
				res.Access = model.Deny
				decided = fmt.Sprintf("security admin rule %s denied the flow", model.Printable(r.Name))
			case model.AlwaysAllow:
				decided = fmt.Sprintf("security admin rule %s always allows the flow, so NSGs are skipped", model.Printable(r.Name))
			default:
				res.note("Security admin rule %s allows the flow and lets the NSGs decide.", model.Printable(r.Name))
			}
		}
	}
	for j, l := range t.order[f.Direction] {
		switch {
		case l.NSG == nil:
			res.Layers = append(res.Layers, LayerTrace{Layer: l, Direction: f.Direction, Status: NoNSG, Match: -1,
				Reason: "no NSG is associated, so this level allows"})
		case decided != "":
			res.Layers = append(res.Layers, LayerTrace{Layer: l, Direction: f.Direction, Status: NotReached, Match: -1, Reason: "not evaluated: " + decided})
		default:
			lt := trace(l, j+1)
			r := lt.Matched()
			if r == nil {
				continue
			}
			res.Verdict = Verdict{r.Access, r, l}
			if r.Access == model.Deny {
				decided = l.Label() + " denied the flow"
			}
		}
	}
	res.addNotes()
	if !nicGiven {
		e.noteSharedIP(res, t)
	}
	return res, nil
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Result) addNotes() {
	f := r.Flow
	if !f.Protocol.HasPorts() {
		r.note("Azure's IP flow verify accepts only TCP and UDP; ipflow evaluated this %s flow with ports ignored (in Azure, use NSG diagnostics for it).", f.Protocol.FlowString())
	}
	switch f.RemoteIP {
	case model.AzurePlatformIP(), model.AzureIMDSIP():
		r.note("%s is an Azure platform address: Azure exempts platform traffic to it (DNS, DHCP, health probes, IMDS) from NSGs unless rules use the AzurePlatform* service tags; the rules were evaluated as for any other address.", f.RemoteIP)
	}
	// Where Azure does not document the answer, say so for the rule that matched in every
	// evaluated layer: any of them shaped the verdict (an Allow passes the flow on).
	_, sp := f.Source()
	for i := range r.Layers {
		m := r.Layers[i].Matched()
		if m == nil {
			continue
		}
		switch {
		case f.Protocol.HasPorts() && sp == AnyPort && !allPorts(m.Source.Ports):
			r.note("The source port was * and %s matches only source ports %s: a real flow matches it only from those ports.", model.Printable(m.ID()), model.FormatPorts(m.Source.Ports))
		case !f.Protocol.HasPorts() && m.Protocol == model.AnyProtocol && !(allPorts(m.Source.Ports) && allPorts(m.Destination.Ports)):
			r.note("%s (protocol *) matched this %s flow although it restricts ports (source %s, destination %s): ports were ignored because %s has none; Azure does not document this case.",
				model.Printable(m.ID()), f.Protocol.FlowString(), model.FormatPorts(m.Source.Ports), model.FormatPorts(m.Destination.Ports), f.Protocol.FlowString())
		}
	}
}

// allPorts reports whether a rule side's ports are * (every port).
func allPorts(ps []model.PortRange) bool {
	return len(ps) == 0 || newPortSet(ps).all()
}

// noteSharedIP says which NIC was chosen when the flow named none and several NICs of the VM
// hold its local IP (possible when the NICs sit in VNets with overlapping address spaces).
func (e *Engine) noteSharedIP(r *Result, chosen *target) {
	ent := e.vms.get(r.Flow.VM)
	var others []string
	for _, t := range ent.targets {
		if t != chosen && t.ip == chosen.ip && t.ipc.NIC != chosen.ipc.NIC && !slices.Contains(others, model.Printable(t.ipc.NIC.Name)) {
			others = append(others, model.Printable(t.ipc.NIC.Name))
		}
	}
	if len(others) > 0 {
		r.note("No NIC was given and %s is held by more than one NIC of %s: %s (the first in the VM's NIC order) was evaluated; %s also holds it. Name the NIC to evaluate another.",
			r.Flow.LocalIP, model.Printable(r.VM.Name), model.Printable(chosen.ipc.NIC.Name), strings.Join(others, ", "))
	}
}
