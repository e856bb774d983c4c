package model

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// rulesPerWorker is how many NSG rules make reading them in another goroutine worth it.
var rulesPerWorker = 2000

type prioKey struct {
	dir  Direction
	prio int
}

// readNSGs reads every NSG: first their names, then their rules, in parallel for large
// fixtures. Each NSG's rules are read into a shadow loader of its own (sharing every map, which
// rules only read) with its own issue lists, merged in order afterwards, so that the result is
// the same as reading sequentially. A shadow makes no "did you mean" suggestion, since their
// budget (maxSuggestCalls) is spent in reading order: an NSG that would have made one is read
// again, in its turn, by l itself.
func (l *loader) readNSGs(roots []*tab) {
	var tabs []*tab
	for _, t := range roots {
		tabs = append(tabs, t.tables("nsg", "nsg", "nsg")...)
	}
	nsgs := make([]*NSG, len(tabs))
	rules := 0
	for i, t := range tabs {
		name, named := l.readName(t)
		t.unknown(keysNSG, nil)
		g := &NSG{Name: name, Pos: t.hpos()}
		g.ResourceGroup, _ = t.str("resource_group", optional)
		if named && l.nsgs.define(l, name, t, g) {
			l.env.NSGs = append(l.env.NSGs, g)
		}
		nsgs[i] = g
		if v, ok := t.m["rule"]; ok {
			switch x := v.(type) {
			case []map[string]any:
				rules += len(x)
			case []any:
				rules += len(x)
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(tabs), rules/rulesPerWorker)
	if workers < 2 {
		for i, t := range tabs {
			l.readRules(t, nsgs[i])
		}
		return
	}
	shadows := make([]*loader, len(tabs))
	var next atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tabs) {
					return
				}
				s := *l
				s.errs, s.warns, s.asgRefs, s.bothASGs, s.shadow = nil, nil, nil, nil, true
				shadows[i] = &s
				tabs[i].l = &s
				func() {
					defer func() {
						if r := recover(); r != nil {
							if !recoverPanics {
								panic(r)
							}
							s.errAt(Pos{}, "", fmt.Sprintf("internal error while reading NSG rules (please report): %v", r))
						}
					}()
					l.readRulesWith(&s, tabs[i], nsgs[i])
				}()
			}
		})
	}
	wg.Wait()
	for i, s := range shadows {
		tabs[i].l = l
		if s.wantSuggest {
			l.readRules(tabs[i], nsgs[i])
			continue
		}
		l.errs = append(l.errs, s.errs...)
		l.warns = append(l.warns, s.warns...)
		l.asgRefs = append(l.asgRefs, s.asgRefs...)
		l.bothASGs = append(l.bothASGs, s.bothASGs...)
	}
}

func (l *loader) readRules(t *tab, g *NSG) { l.readRulesWith(l, t, g) }

// readRulesWith reads the rules of NSG g (table t) using loader s (l or a shadow of it).
func (l *loader) readRulesWith(s *loader, t *tab, g *NSG) {
	l = s
	name := g.Name
	rules := t.tables("rule", "nsg.rule", "rule")
	if len(rules) > MaxRulesPerNSG {
		t.errf("rule", "%d rules; Azure allows at most %d custom rules per NSG", len(rules), MaxRulesPerNSG)
	}
	g.Rules = make([]*Rule, 0, len(rules))
	names := sizedRegistry[*Rule]("rule", resName("", "nsg", name), len(rules))
	prios := make(map[prioKey]*Rule, len(rules))
	for _, rt := range rules {
		rname, rnamed := l.readName(rt)
		rt.unknown(keysRule, hintsRule)
		r, prioOK := l.readRule(rt, rname, rnamed, false)
		if rnamed && !names.define(l, rname, rt, r) {
			rnamed = false
		}
		if prioOK && rnamed {
			k := prioKey{r.Direction, r.Priority}
			if prev, dup := prios[k]; dup {
				l.errAt(rt.pos("priority"), t.resource(), fmt.Sprintf(
					"rule %q conflicts with rule %q (%s): Rules cannot have the same Priority and Direction (priority %d, %s)",
					rname, prev.Name, prev.Pos, r.Priority, r.Direction))
			} else {
				prios[k] = r
			}
		}
		if rnamed {
			g.Rules = append(g.Rules, r)
		}
		rt.done()
	}
	// The rules are the bulk of a large estate's decoded tree and of its line index: let them go
	// now rather than at the end of the load, so the rest of the model is built with a smaller
	// heap (each rule's table keeps its own line index node); unless they are to be read again.
	if !l.wantSuggest {
		t.done()
		t.node.forget("rule")
	}
	asgs := map[*ASG]bool{}
	for _, r := range g.Rules {
		for _, a := range slices.Concat(r.Source.ASGs, r.Destination.ASGs) {
			asgs[a] = true
		}
	}
	if len(asgs) > MaxASGsPerNSG {
		l.errAt(t.hpos(), t.resource(), fmt.Sprintf("its rules use %d ASGs; Azure allows at most %d application security groups in all the rules of one NSG (split the rules over two NSGs)", len(asgs), MaxASGsPerNSG))
	}
}
