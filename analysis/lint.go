package analysis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"ipflow/engine"
	"ipflow/model"
)

// Severity ranks findings; SARIF calls them levels.
type Severity uint8

const (
	Note Severity = iota
	Warning
	Error
)

func (s Severity) String() string { return [...]string{"note", "warning", "error"}[s] }

// ParseSeverity accepts note, warning or error.
func ParseSeverity(s string) (Severity, error) {
	for v := Note; v <= Error; v++ {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%q: must be note, warning or error", s)
}

// The kinds of finding.
const (
	KindShadowed    = "shadowed"        // higher-priority rules of the same NSG match all it matches
	KindUnreachable = "unreachable"     // another layer decides all its flows first
	KindMatchesNone = "matches-nothing" // no flow of any NIC it applies to can match it
	KindEmptyASG    = "empty-asg"       // an ASG without members
	KindUnusedTag   = "unused-tag"      // a declared service tag no rule names, or one without prefixes
	KindUnattached  = "unattached-nsg"  // an NSG on no subnet and no NIC
	KindExposure    = "exposure"        // management ports or every port open to the Internet
)

const exposureAll = "every TCP/UDP port"

// Finding is one thing lint reports: what kind, how bad, about which rule (or ASG, tag, NSG),
// where it is written, and one line saying why.
type Finding struct {
	Kind     string
	Severity Severity
	NSG      *model.NSG  // the rule's NSG; nil for admin rules and findings about no NSG
	Rule     *model.Rule // the rule the finding is about; nil for ASG, tag and NSG findings
	// Related are the rules that make it so: the covering rules of a shadowed rule, the rules
	// that decide first for an unreachable one.
	Related []*model.Rule
	Subject string    // what it is about, printable: "securityRules/x in NSG y", "ASG web"
	Pos     model.Pos // where to look in the fixtures
	Message string    // why, in one line, printable
	VMs     []string  // for exposure: the VMs exposed
}

// Findings are lint's answer, most severe first, then by place.
type Findings []Finding

// Lint checks the whole estate and returns its findings.
func (a *Analyzer) Lint() Findings {
	fs, _ := a.LintContext(context.Background())
	return fs
}

// LintContext is Lint that stops early, with ctx's error, once ctx is done (an SSH client that
// left: the whole estate's lint takes seconds).
func (a *Analyzer) LintContext(ctx context.Context) (Findings, error) {
	w := runtime.GOMAXPROCS(0)
	return a.lint(ctx, w, 64*w)
}

// lint runs on workers goroutines, batch targets and directions at a time; the findings do
// not depend on either (a test holds it).
func (a *Analyzer) lint(ctx context.Context, workers, batch int) (Findings, error) {
	l := &linter{Analyzer: a, workers: max(workers, 1), facts: map[*model.Rule]*ruleFacts{}, seen: map[string]bool{}, vnets: map[string]int{}}
	var jobs []job
	for _, t := range a.e.Targets() {
		for _, d := range []model.Direction{model.Inbound, model.Outbound} {
			jobs = append(jobs, job{t: t, d: d})
		}
	}
	// Batches keep the jobs' order meaningful: a rule open at a batch's start is tried in
	// every job of the batch, and the facts keep the earliest job's context, so the findings
	// are those of one job after the other.
	batch = max(batch, 1)
	for i := 0; i < len(jobs); i += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.batch(jobs[i:min(i+batch, len(jobs))])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.rules()
	l.references()
	l.exposure()
	slices.SortStableFunc(l.out, func(x, y Finding) int {
		return cmp.Or(-cmp.Compare(x.Severity, y.Severity), cmp.Compare(x.Pos.File, y.Pos.File), cmp.Compare(x.Pos.Line, y.Pos.Line))
	})
	return l.out, nil
}

// parallel calls f(0) … f(n-1) on at most workers goroutines.
func parallel(workers, n int, f func(int)) {
	if workers = min(workers, n); workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

type linter struct {
	*Analyzer
	workers int
	facts   map[*model.Rule]*ruleFacts
	seen    map[string]bool // contexts already partitioned (see batch)
	vnets   map[string]int
	out     []Finding
}

// evalPlace is a place a rule is evaluated: a target, a direction and the rule's layer slot.
type evalPlace struct {
	t    engine.Target
	d    model.Direction
	slot int
	rs   engine.RuleSpace
}

// ruleFacts is what the partitions showed about one rule.
type ruleFacts struct {
	applies  bool       // its layer is evaluated for some target
	local    bool       // its local side holds some target
	nonEmpty *evalPlace // a context where it matches some flow
	decides  *evalPlace // a context where it decides a flow within its own layer
	reached  bool       // it is the first match of its layer for some flow, all layers composed
	nics     int        // contexts it applies to
}

func (l *linter) fact(r *model.Rule) *ruleFacts {
	f := l.facts[r]
	if f == nil {
		f = &ruleFacts{}
		l.facts[r] = f
	}
	return f
}

// job is one target and direction, and what its partitions found: the facts are written
// back in the jobs' order, so the first context found for a rule is the same however many
// workers ran.
type job struct {
	t        engine.Target
	d        model.Direction
	spaces   [3][]engine.RuleSpace
	keys     [3][]byte
	run      [3]bool // the layer's context is new: partition it
	composed bool    // the composed context is new
	local    []*model.Rule
	nonEmpty []*evalPlace
	decides  []*evalPlace
	reached  []*model.Rule
}

// batch partitions some targets and directions, as far as some rule's facts are still open:
// each layer alone (which rules can decide a flow within their NSG) and all layers composed
// (which are ever the match of their layer). A layer context seen before adds nothing; a few
// open rules get a partition of their own flows only. The partitions run in parallel; the
// facts are read before and written after them, in the jobs' order.
func (l *linter) batch(jobs []job) {
	for i := range jobs {
		j := &jobs[i]
		for _, layer := range j.t.Slots(j.d) {
			if layer == nil {
				continue
			}
			for _, r := range layer.Rules(j.d) {
				f := l.fact(r)
				f.applies = true
				f.nics++
			}
		}
		j.keys[0] = binary.AppendUvarint(nil, uint64(l.vnetID(j.t))) // read by keys below
	}
	parallel(l.workers, len(jobs), func(i int) { jobs[i].keysAndSpaces() })
	for i := range jobs {
		j := &jobs[i]
		for s, k := range j.keys {
			if k != nil && !l.seen[string(k)] {
				l.seen[string(k)], j.run[s] = true, true
			}
		}
	}
	parallel(l.workers, len(jobs), func(i int) { l.layers(&jobs[i]) })
	for i := range jobs {
		j := &jobs[i]
		for _, r := range j.local {
			l.facts[r].local = true
		}
		for _, c := range j.nonEmpty {
			if f := l.facts[c.rs.Rule]; f.nonEmpty == nil {
				f.nonEmpty = c
			}
		}
		for _, c := range j.decides {
			if f := l.facts[c.rs.Rule]; f.decides == nil {
				f.decides = c
			}
		}
		composed := string(bytes.Join(j.keys[:], []byte{0xff}))
		if !l.seen[composed] {
			l.seen[composed], j.composed = true, true
		}
	}
	parallel(l.workers, len(jobs), func(i int) { l.composed(&jobs[i]) })
	for i := range jobs {
		for _, r := range jobs[i].reached {
			l.facts[r].reached = true
		}
		jobs[i] = job{} // the spaces are large; the batch is done with them
	}
}

// keysAndSpaces resolves a job's rule spaces and names each layer's context: the layer's
// rules, which of them hold this NIC on the local side, and what VirtualNetwork (so Internet)
// holds here (the number in keys[0] on entry). Identical contexts partition alike.
func (j *job) keysAndSpaces() {
	vnet := j.keys[0]
	j.keys[0] = nil
	for s, layer := range j.t.Slots(j.d) {
		if layer == nil || len(layer.Rules(j.d)) == 0 {
			continue
		}
		j.spaces[s] = j.t.Spaces(j.d, s)
		key := append([]byte{byte(j.d), byte(s)}, vnet...)
		key = append(key, layerID(layer)...)
		for _, rs := range j.spaces[s] {
			key = binary.AppendUvarint(key, uint64(rs.Index))
		}
		j.keys[s] = key
	}
}

// layers partitions each new layer context of a job alone, for the rules that no earlier
// batch found deciding. It reads the facts and writes only the job.
func (l *linter) layers(j *job) {
	for s := range 3 {
		if !j.run[s] {
			continue
		}
		var open []engine.RuleSpace
		for _, rs := range j.spaces[s] {
			f := l.facts[rs.Rule]
			j.local = append(j.local, rs.Rule)
			if len(rs.Remote) == 0 || rs.Protocols == 0 {
				continue
			}
			if f.nonEmpty == nil {
				j.nonEmpty = append(j.nonEmpty, &evalPlace{j.t, j.d, s, rs})
			}
			if f.decides == nil {
				open = append(open, rs)
			}
		}
		var found []*evalPlace
		l.partitionOpen(j.t, j.d, s, s+1, open, &j.spaces, func(c *evalPlace) { found = append(found, c) })
		// In the order the rules are evaluated, each once.
		slices.SortStableFunc(found, func(x, y *evalPlace) int { return cmp.Compare(x.rs.Index, y.rs.Index) })
		j.decides = append(j.decides, slices.CompactFunc(found, func(x, y *evalPlace) bool { return x.rs.Rule == y.rs.Rule })...)
	}
}

// composed partitions a new composed context of a job for the rules known to decide in their
// layer and not yet known to be reached. It reads the facts and writes only the job.
func (l *linter) composed(j *job) {
	if !j.composed {
		return
	}
	var open []engine.RuleSpace
	for s := range 3 {
		for _, rs := range j.spaces[s] {
			if f := l.facts[rs.Rule]; f.decides != nil && !f.reached && len(rs.Remote) > 0 && rs.Protocols != 0 {
				open = append(open, rs)
			}
		}
	}
	l.partitionOpen(j.t, j.d, -1, 0, open, &j.spaces, func(c *evalPlace) { j.reached = append(j.reached, c.rs.Rule) })
}

// layerID names a layer's rules: its NSG, or the VNet whose admin rules it holds.
func layerID(layer *engine.Layer) string {
	if layer.Kind == engine.AdminLayer {
		return "admin\x00" + layer.VNet.Name + "\x00"
	}
	return "nsg\x00" + layer.NSG.Name + "\x00"
}

// vnetID numbers the distinct VirtualNetwork sets: NICs of subnets with the same set resolve
// VirtualNetwork and Internet alike.
func (l *linter) vnetID(t engine.Target) int {
	v := t.VirtualNetwork()
	var b []byte
	for _, r := range v {
		b = binary.BigEndian.AppendUint32(b, r.Lo)
		b = binary.BigEndian.AppendUint32(b, r.Hi)
	}
	id, ok := l.vnets[string(b)]
	if !ok {
		id = len(l.vnets)
		l.vnets[string(b)] = id
	}
	return id
}

// openLimit is how many open rules get partitions of their own before the whole space is
// partitioned at once instead.
const openLimit = 1

// partitionOpen finds which open rules are the match of their layer somewhere (slot only is 1
// + the layer judged alone, or 0 for all layers), and calls found for each.
func (l *linter) partitionOpen(t engine.Target, d model.Direction, slot, only int, open []engine.RuleSpace, spaces *[3][]engine.RuleSpace, found func(*evalPlace)) {
	if len(open) == 0 {
		return
	}
	spaceOf := func(s int, r *model.Rule) engine.RuleSpace {
		for _, rs := range spaces[s] {
			if rs.Rule == r {
				return rs
			}
		}
		return engine.RuleSpace{}
	}
	record := func(p *problem) {
		for _, ds := range p.decisions {
			for s, r := range ds[0].Matched {
				if r != nil && (slot < 0 || s == slot) {
					found(&evalPlace{t, d, s, spaceOf(s, r)})
				}
			}
		}
	}
	if len(open) > openLimit {
		p := newProblem([]chainSpec{{t: t, d: d, only: only, spaces: spaces}}, Everything())
		p.run()
		p.done()
		record(p)
		return
	}
	for _, rs := range open {
		p := newProblem([]chainSpec{{t: t, d: d, only: only, spaces: spaces}}, boxOf(rs))
		p.run()
		p.done()
		record(p)
	}
}

// boxOf is the flows a rule matches in a context, as a Box.
func boxOf(rs engine.RuleSpace) Box {
	return Box{Protocols: Protocols(rs.Protocols), Remote: AddrSet{fromRanges(rs.Remote)},
		RemotePorts: PortSet{fromPorts(rs.RemotePorts)}, LocalPorts: PortSet{fromPorts(rs.LocalPorts)}}
}

// deciders are the rules that decide the flows of space in a context (the layer alone, or
// every layer), other than skip, in priority order.
func deciders(c *evalPlace, only int, space Box, skip *model.Rule) []*model.Rule {
	p := newProblem([]chainSpec{{t: c.t, d: c.d, only: only}}, space)
	p.run()
	p.done()
	var out []*model.Rule
	for _, r := range p.out {
		if d := p.decisions[r.outcome][0]; d.Rule != nil && d.Rule != skip && !slices.Contains(out, d.Rule) {
			out = append(out, d.Rule)
		}
	}
	slices.SortStableFunc(out, func(x, y *model.Rule) int { return cmp.Compare(x.Priority, y.Priority) })
	return out
}

// owned lists every custom and admin rule with its NSG (nil for admin rules).
func (l *linter) owned() (rules []*model.Rule, nsgs []*model.NSG) {
	for _, a := range l.env.AdminRules {
		rules, nsgs = append(rules, &a.Rule), append(nsgs, nil)
	}
	for _, n := range l.env.NSGs {
		for _, r := range n.Rules {
			rules, nsgs = append(rules, r), append(nsgs, n)
		}
	}
	return rules, nsgs
}

func subject(r *model.Rule, n *model.NSG) string {
	if n == nil {
		return model.Printable(r.ID())
	}
	return model.Printable(r.ID()) + " in NSG " + model.Printable(n.Name)
}

func ruleNames(rs []*model.Rule) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = model.Printable(r.ID())
	}
	return shortList(names, 5)
}

// rules reports, rule by rule, the ones that can never decide a flow, and why. Naming the
// rules that decide instead takes a partition each: those run in parallel, the findings keep
// the rules' order.
func (l *linter) rules() {
	rules, nsgs := l.owned()
	out := make([]*Finding, len(rules))
	parallel(l.workers, len(rules), func(i int) { out[i] = l.rule(rules[i], nsgs[i]) })
	for _, f := range out {
		if f != nil {
			l.out = append(l.out, *f)
		}
	}
}

// rule is the finding about one rule, or nil. It only reads the linter.
func (l *linter) rule(r *model.Rule, n *model.NSG) *Finding {
	f := l.facts[r]
	if f == nil || !f.applies {
		return nil // its NSG is attached to nothing, or an admin rule of no VNet: reported elsewhere
	}
	add := func(kind, msg string, related []*model.Rule) *Finding {
		return &Finding{Kind: kind, Severity: Warning, NSG: n, Rule: r, Related: related, Subject: subject(r, n), Pos: r.Pos, Message: msg}
	}
	local, remote := "destination", "source"
	if r.Direction == model.Outbound {
		local, remote = remote, local
	}
	switch {
	case !f.local:
		return add(KindMatchesNone, fmt.Sprintf("matches no flow: its %s holds none of the %d NIC address(es) it applies to", local, f.nics), nil)
	case f.nonEmpty == nil:
		return add(KindMatchesNone, fmt.Sprintf("matches no flow: its %s resolves to no address for the NICs it applies to%s", remote, l.emptyWhy(r, remote)), nil)
	case f.decides == nil:
		c := f.nonEmpty
		cover := deciders(c, c.slot+1, boxOf(c.rs), r)
		return add(KindShadowed, fmt.Sprintf("can never decide a flow: %s, of higher priority, match every flow it matches", ruleNames(cover)), cover)
	case !f.reached:
		c := f.decides
		first := deciders(c, 0, boxOf(c.rs), r)
		return add(KindUnreachable, fmt.Sprintf("is never evaluated for its flows: on every NIC it applies to, %s decide them first", l.withLayers(first, c)), first)
	}
	return nil
}

// emptyWhy says why a side resolves to nothing: an ASG without members, Internet under a
// 0.0.0.0/0 route.
func (l *linter) emptyWhy(r *model.Rule, remote string) string {
	side := r.Source
	if remote == "destination" {
		side = r.Destination
	}
	for _, g := range side.ASGs {
		if len(g.Members) == 0 {
			return fmt.Sprintf(" (ASG %s has no members)", model.Printable(g.Name))
		}
	}
	for _, a := range side.Addresses {
		if a.Kind == model.TagAddress && a.Tag == model.TagInternet {
			return " (Internet is empty there: a 0.0.0.0/0 route makes every address VirtualNetwork)"
		}
	}
	return ""
}

// withLayers is "securityRules/deny-x (NSG subnet-nsg on subnet/hub/web)" for each rule.
func (l *linter) withLayers(rs []*model.Rule, c *evalPlace) string {
	var parts []string
	for _, r := range rs {
		where := ""
		for s, layer := range c.t.Slots(c.d) {
			if layer != nil && slices.Contains(layer.Rules(c.d), r) && s != c.slot {
				where = " (" + layerName(layer) + ")"
			}
		}
		parts = append(parts, model.Printable(r.ID())+where)
	}
	return shortList(parts, 4)
}

// references reports ASGs without members, declared tags no rule uses, NSGs attached nowhere.
func (l *linter) references() {
	usedASG := map[*model.ASG][]*model.Rule{}
	usedTag := map[string]bool{}
	rules, _ := l.owned()
	for _, r := range rules {
		for _, s := range []model.Side{r.Source, r.Destination} {
			for _, g := range s.ASGs {
				usedASG[g] = append(usedASG[g], r)
			}
			for _, a := range s.Addresses {
				if a.Kind == model.TagAddress {
					usedTag[a.Tag] = true
				}
			}
		}
	}
	for _, g := range l.env.ASGs {
		if len(g.Members) > 0 {
			continue
		}
		f := Finding{Kind: KindEmptyASG, Severity: Note, Subject: "ASG " + model.Printable(g.Name), Pos: g.Pos, Message: "has no members"}
		if rs := usedASG[g]; len(rs) > 0 {
			f.Severity, f.Related = Warning, rs
			f.Message = "has no members, so the rules naming it match nothing on that side: " + ruleNames(rs)
		}
		l.out = append(l.out, f)
	}
	for _, name := range sortedTags(l.env) {
		switch {
		case len(l.env.ServiceTags[name]) == 0:
			l.out = append(l.out, Finding{Kind: KindUnusedTag, Severity: Note, Subject: "service tag " + model.Printable(name), Pos: model.Pos{File: firstFile(l.env)}, Message: "has no prefixes: rules naming it match nothing on that side"})
		case !usedTag[name]:
			l.out = append(l.out, Finding{Kind: KindUnusedTag, Severity: Note, Subject: "service tag " + model.Printable(name), Pos: model.Pos{File: firstFile(l.env)}, Message: "is declared but no rule names it"})
		}
	}
	attached := map[*model.NSG]bool{}
	for _, v := range l.env.VNets {
		for _, s := range v.Subnets {
			attached[s.NSG] = true
		}
	}
	for _, vm := range l.env.VMs {
		for _, n := range vm.NICs {
			attached[n.NSG] = true
		}
	}
	for _, n := range l.env.NSGs {
		if !attached[n] {
			l.out = append(l.out, Finding{Kind: KindUnattached, Severity: Note, NSG: n, Subject: "NSG " + model.Printable(n.Name), Pos: n.Pos,
				Message: "is attached to no subnet and no NIC: its rules apply to nothing"})
		}
	}
}

func firstFile(env *model.Environment) string {
	if len(env.Files) > 0 {
		return env.Files[0]
	}
	return ""
}

// managementPorts are SSH, RDP and WinRM.
var managementPorts = ivs{span(22, 22), span(3389, 3389), span(5985, 5986)}

// exposure reports rules that let the Internet reach a running VM's management ports, or
// every port of it.
func (l *linter) exposure() {
	type key struct {
		rule  *model.Rule
		layer *engine.Layer
		all   bool
	}
	type exp struct {
		ports  ivs
		protos Protocols
		vms    []string
		pub    ivs // the public addresses allowed (the union over VMs)
		inet   ivs
		path   []*model.Rule // the rules that allowed it in every layer
	}
	found := map[key]*exp{}
	var order []key
	// The partitions run in parallel; the findings are gathered in the targets' order.
	targets := l.e.Targets()
	regions := make([][]Region, len(targets))
	parallel(l.workers, len(targets), func(i int) {
		t := targets[i]
		if t.IPConfig().NIC.VM.PowerState != model.Running {
			return
		}
		space := Everything()
		space.Protocols, space.Remote = ProtocolSet(model.TCP, model.UDP), AddrSet{fromRanges(t.Internet())}
		if len(space.Remote.s) > 0 {
			regions[i] = Partition(t, model.Inbound, space)
		}
	})
	for i, t := range targets {
		if len(regions[i]) == 0 {
			continue
		}
		vm := t.IPConfig().NIC.VM
		inet := fromRanges(t.Internet())
		for _, r := range regions[i] {
			if r.Access != model.Allow {
				continue
			}
			pub := r.Remote.s
			for _, all := range []bool{false, true} {
				ports := r.LocalPorts.s.intersect(managementPorts)
				if all && !r.LocalPorts.All() || !all && len(ports) == 0 {
					continue
				}
				k := key{r.Rule, r.Layer, all}
				e := found[k]
				if e == nil {
					e = &exp{}
					found[k] = e
					order = append(order, k)
				}
				e.ports, e.protos, e.pub, e.inet = e.ports.union(ports), e.protos|r.Protocols, e.pub.union(pub), inet
				for _, m := range r.Matched {
					if m != nil && !slices.Contains(e.path, m) {
						e.path = append(e.path, m)
					}
				}
				if name := model.Printable(vm.Name); !slices.Contains(e.vms, name) {
					e.vms = append(e.vms, name)
				}
			}
		}
	}
	for _, k := range order {
		e := found[k]
		if !k.all && found[key{k.rule, k.layer, true}] != nil {
			continue // the every-port finding says it
		}
		what := fmt.Sprintf("%s %s", e.protos, PortSet{e.ports})
		if k.all {
			what = exposureAll
		}
		from := "the Internet"
		if !e.inet.within(e.pub) {
			from = fmt.Sprintf("%d Internet address(es) (%s)", e.pub.size(), addrLine(AddrSet{e.pub}))
		}
		f := Finding{Kind: KindExposure, Severity: Error, Rule: k.rule, VMs: e.vms, Related: e.path,
			Message: fmt.Sprintf("allows %s from %s to running VM(s) %s", what, from, shortList(e.vms, maxNamed))}
		if len(e.path) > 1 {
			f.Message += "; allowed on the way by " + ruleNames(e.path)
		}
		switch {
		case k.rule == nil:
			f.Subject, f.Pos = "no NSG on the subnet or the NIC", l.nicPos(e.vms[0])
		case k.layer.NSG != nil:
			f.NSG, f.Subject, f.Pos = k.layer.NSG, subject(k.rule, k.layer.NSG), k.rule.Pos
			if k.rule.Kind == model.DefaultRule {
				f.Pos = k.layer.NSG.Pos
			}
		default:
			f.Subject, f.Pos = subject(k.rule, nil), k.rule.Pos
		}
		l.out = append(l.out, f)
	}
}

func (l *linter) nicPos(vm string) model.Pos {
	for _, v := range l.env.VMs {
		if model.Printable(v.Name) == vm {
			return v.Pos
		}
	}
	return model.Pos{}
}
