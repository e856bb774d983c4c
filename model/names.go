package model

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// tagNameRE is what ipflow accepts as a declared service tag name.
var tagNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`) })

// ValidRuleName reports whether s is a valid security rule name in Azure: up to 80 characters,
// word characters (ASCII letters, digits, '_'), '.' and '-', starting and ending with a word
// character — the pattern ^\w(?:[\w.-]{0,78}\w)?$, written out because it is checked for every
// rule of an estate.
func ValidRuleName(s string) bool {
	if len(s) == 0 || len(s) > 80 || !isWordByte(s[0]) || !isWordByte(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isWordByte(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ValidTagName reports whether s has the form of a service tag name.
func ValidTagName(s string) bool { return tagNameRE().MatchString(s) }

// registry holds the resources of one kind by name within one scope: the estate (VNets, NSGs,
// ASGs, VMs, NICs, admin rules) or one parent (the subnets of a VNet, the rules of an NSG, the IP
// configurations of a NIC). Names are unique case-insensitively (as Azure resource names are);
// references must match exactly. "Defined twice" is worded here only.
type registry[T any] struct {
	kind     string
	scope    string // "" for the estate, else the parent: vnet "hub"
	caseNote bool   // say when the two names differ only in case
	byName   map[string]T
	fold     map[string]namedAt
	names    []string
}

type namedAt struct {
	name string
	pos  Pos
}

func newRegistry[T any](kind, scope string) *registry[T] {
	return sizedRegistry[T](kind, scope, 0)
}

// sizedRegistry is a registry with room for n names.
func sizedRegistry[T any](kind, scope string, n int) *registry[T] {
	return &registry[T]{kind: kind, scope: scope, caseNote: true, byName: make(map[string]T, n),
		fold: make(map[string]namedAt, n), names: make([]string, 0, n)}
}

// define registers name, defined by table t, or reports it defined twice (at t's header, naming
// both places) and returns false.
func (r *registry[T]) define(l *loader, name string, t *tab, v T) bool {
	if r.clash(l, name, t.hpos(), t) {
		return false
	}
	r.add(name, t.hpos(), v)
	return true
}

// clash reports, at here in table t, that name is already defined, and says whether it is.
func (r *registry[T]) clash(l *loader, name string, here Pos, t *tab) bool {
	prev, ok := r.fold[strings.ToLower(name)]
	if !ok {
		return false
	}
	msg := "defined twice"
	if r.scope != "" {
		msg += " in " + r.scope
	}
	msg += "; first defined at " + prev.pos.String()
	if r.caseNote && prev.name != name {
		msg += fmt.Sprintf(" as %q (names are case-insensitive in Azure)", prev.name)
	}
	l.errAt(here, t.resource(), msg) // the path is built only for a message
	if _, ok := r.byName[name]; !ok {
		// Refer to the first definition, so that references do not fail as well.
		r.byName[name] = r.byName[prev.name]
	}
	return true
}

// add registers name, defined at pos; clash must have said it is new.
func (r *registry[T]) add(name string, pos Pos, v T) {
	r.fold[strings.ToLower(name)] = namedAt{name, pos}
	r.byName[name] = v
	r.names = append(r.names, name)
}

// noSuch explains an unknown reference, suggesting a close name.
func (l *loader) noSuch(kind, name string, candidates []string) string {
	msg := fmt.Sprintf("no %s named %q", kind, name)
	if len(candidates) == 0 {
		return msg + fmt.Sprintf(" (the fixtures define no %s)", kind)
	}
	if s := l.suggest(name, candidates); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	if len(candidates) <= 8 {
		qs := make([]string, len(candidates))
		for i, c := range candidates {
			qs[i] = QuoteName(c)
		}
		return msg + "; defined: " + strings.Join(qs, ", ")
	}
	return msg
}

// suggest is Suggest within the load's budget of maxSuggestCalls, spent in reading order. A
// shadow loader (readNSGs) does not suggest: it says it would have, and its NSG is read again
// in order.
func (l *loader) suggest(name string, candidates []string) string {
	if len(name) > 200 {
		return ""
	}
	if l.shadow {
		if l.suggestCalls.Load() < maxSuggestCalls {
			l.wantSuggest = true
		}
		return ""
	}
	if l.suggestCalls.Add(1) > maxSuggestCalls {
		return ""
	}
	return Suggest(name, candidates)
}

// resName is a resource path: parent, then kind "name".
func resName(parent, kind, name string) string {
	if parent != "" {
		parent += " "
	}
	return parent + kind + " " + QuoteName(name)
}

// readName reads a resource's required, non-empty name and, when it has one, names t.
func (l *loader) readName(t *tab) (string, bool) {
	name, ok := t.str("name", "a non-empty string")
	if ok && strings.TrimSpace(name) == "" {
		t.errf("name", "name: must not be empty")
		ok = false
	}
	if max := maxNameLen[t.kind]; ok && max > 0 {
		if n := utf8.RuneCountInString(name); n > max {
			t.errf("name", "name %s: %s characters; Azure allows %s names of at most %d", QuoteName(name), formatCount(n), t.kind, max)
			ok = false
		}
	}
	if ok {
		t.setName(name)
	}
	return name, ok
}

// maxNameLen is the longest name Azure allows for each kind of resource (rules are checked
// against Azure's whole rule-name pattern in readRule).
var maxNameLen = map[string]int{"vnet": 64, "subnet": 80, "nsg": 80, "asg": 80, "vm": 64, "nic": 80}
