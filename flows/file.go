package flows

import (
	"errors"
	"fmt"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// A flows file is TOML: one [[flow]] table per flow.
//
//	[[flow]]
//	name = "web reaches db on 1433"
//	vm = "app-01"                      # nic optional, as in verify
//	direction = "outbound"
//	protocol = "tcp"
//	local = "10.1.1.4:50000"
//	remote = "10.2.1.4:1433"
//	expect = "allow"                   # allow | deny
//	rule = "securityRules/allow-sql"   # optional: the deciding rule must be this one
//	nsg = "db-subnet-nsg"              # optional: ... and in this NSG
var (
	keysTop  = []string{"flow"}
	keysFlow = []string{"name", "vm", "nic", "direction", "protocol", "local", "remote", "expect", "rule", "nsg"}

	hintsFlow = map[string]string{
		"access":      `write expect = "allow" or "deny"`,
		"verdict":     `write expect = "allow" or "deny"`,
		"source":      "a flow has local (the VM's IP:PORT) and remote, as verify takes them",
		"destination": "a flow has local (the VM's IP:PORT) and remote, as verify takes them",
	}
)

// hintsTop explains flow keys written outside a [[flow]] table.
var hintsTop = func() map[string]string {
	h := map[string]string{}
	for _, k := range keysFlow {
		h[k] = "flow keys belong to a flow: write [[flow]] before them"
	}
	return h
}()

// Expect is the verdict a flow must get.
type Expect uint8

const (
	NoExpect Expect = iota // not written: only --record accepts that
	ExpectAllow
	ExpectDeny
)

func (x Expect) String() string {
	switch x {
	case ExpectAllow:
		return "allow"
	case ExpectDeny:
		return "deny"
	}
	return ""
}

// Flow is one [[flow]] of a flows file.
type Flow struct {
	Name   string
	Fields Fields // as written
	Flow   engine.Flow
	Expect Expect
	Rule   string // optional: the deciding rule, as verify names it (securityRules/NAME, ...)
	NSG    string // optional: the NSG of the deciding rule
	Pos    model.Pos

	t  *model.Table
	ok bool // every field parsed
}

// File is a set of flows files, loaded together (names are unique across them).
type File struct {
	Flows []*Flow
	doc   *model.Document
}

// Load reads flows files. Without record, every flow must say what it expects. Every error is
// reported at once, as a *model.LoadError; the File is returned with it, so that Check can add
// the errors against the estate (a file that failed to decode has no flows).
func Load(record bool, srcs ...model.Source) (*File, error) {
	f := &File{doc: model.ReadDocument(srcs...)}
	names := map[string]model.Pos{}
	for _, root := range f.doc.Roots() {
		root.Unknown(keysTop, hintsTop)
		tabs := root.Tables("flow", "flow", "flow")
		if len(tabs) == 0 && !root.Has("flow") {
			root.Errorf("flow", "no flows: a flows file holds [[flow]] tables with name, vm, direction, protocol, local, remote and expect")
		}
		for _, t := range tabs {
			if fl := readFlow(t, record, names); fl != nil {
				f.Flows = append(f.Flows, fl)
			}
		}
	}
	return f, f.doc.Err()
}

func readFlow(t *model.Table, record bool, names map[string]model.Pos) *Flow {
	fl := &Flow{t: t, Pos: t.HeaderPos(), ok: true}
	if name, ok := t.Str("name", "a non-empty string that names the flow in reports"); ok {
		switch prev, dup := names[name]; {
		case strings.TrimSpace(name) == "":
			t.Errorf("name", "name: must not be empty")
			fl.ok = false
		case dup:
			t.SetName(name)
			t.Errorf("name", "name: defined twice; first defined at %s (names identify flows in reports)", prev)
			fl.ok = false
		default:
			t.SetName(name)
			names[name] = fl.Pos
			fl.Name = name
		}
	} else {
		fl.ok = false
	}
	t.Unknown(keysFlow, hintsFlow) // after the name, which then names the flow in the messages
	// str reads a string; present is false when the key is absent or not a string (reported).
	str := func(key, want string) (v string, present bool) {
		v, ok := t.Str(key, want)
		if !ok && (want != "" || t.Has(key)) {
			fl.ok = false
		}
		return v, ok
	}
	fs := &fl.Fields
	fs.VM, _ = str("vm", "the VM's name")
	var nicOK bool
	fs.NIC, nicOK = str("nic", "")
	fs.Direction, _ = str("direction", "inbound or outbound")
	fs.Protocol, _ = str("protocol", "tcp, udp, icmp, esp or ah")
	fs.Local, _ = str("local", "the VM's IP:PORT")
	fs.Remote, _ = str("remote", "the remote IP:PORT")
	var errs []FieldError
	fl.Flow, errs = fs.Parse()
	for _, e := range errs {
		fl.ok = false
		if !e.Missing { // missing keys were reported by Str, with what they take
			t.Errorf(e.Field, "%s: %s", e.Field, e.Msg)
		}
	}
	if nicOK && fs.NIC == "" {
		t.Errorf("nic", "nic: must not be empty (leave it out to use the NIC that holds the local IP)")
		fl.ok = false
	}

	want := "allow or deny; ipflow test --record fills it from today's verdict"
	if record {
		want = ""
	}
	if x, ok := str("expect", want); ok {
		switch strings.ToLower(x) {
		case "allow":
			fl.Expect = ExpectAllow
		case "deny":
			fl.Expect = ExpectDeny
		default:
			t.Errorf("expect", "expect %s: must be allow or deny", quote(x))
			fl.ok = false
		}
	}
	if r, ok := str("rule", ""); ok {
		if msg := ruleFormError(r); msg != "" {
			t.Errorf("rule", "rule %s: %s", quote(r), msg)
			fl.ok = false
		} else {
			fl.Rule = r
		}
	}
	if n, ok := str("nsg", ""); ok {
		if strings.TrimSpace(n) == "" {
			t.Errorf("nsg", "nsg: must not be empty (leave it out to accept any NSG)")
			fl.ok = false
		} else {
			fl.NSG = n
		}
	}
	return fl
}

// rulePrefixes are the ways verify names a rule.
var rulePrefixes = []string{"securityRules/", "defaultSecurityRules/", "securityAdminRules/"}

// ruleFormError says what is wrong with how a rule is written, or "".
func ruleFormError(r string) string {
	prefix, name, ok := strings.Cut(r, "/")
	if !ok {
		if model.ValidRuleName(r) {
			return fmt.Sprintf("write the rule as verify names it: securityRules/%s (or defaultSecurityRules/..., securityAdminRules/...)", r)
		}
		return "must be securityRules/NAME, defaultSecurityRules/NAME or securityAdminRules/NAME, as verify names the deciding rule"
	}
	valid := false
	for _, p := range rulePrefixes {
		valid = valid || p == prefix+"/"
	}
	if !valid {
		msg := fmt.Sprintf("%s is not a kind of rule; must be securityRules, defaultSecurityRules or securityAdminRules", quote(prefix))
		if s := model.Suggest(prefix, []string{"securityRules", "defaultSecurityRules", "securityAdminRules"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return msg
	}
	if !model.ValidRuleName(name) {
		return fmt.Sprintf("%s is not a valid rule name (up to 80 letters, digits, '.', '-' and '_', starting and ending with a letter, digit or '_')", quote(name))
	}
	return ""
}

// Check checks the flows against the estate: every VM, NIC and address must resolve, and every
// rule and NSG a flow names must exist in it or in one of also (with a what-if, a flow may
// expect a rule the change removes: that is a failure of the test, not an error of the file).
// Errors point at the flow's key, like Load's, and come with Load's errors (a flow with errors
// of its own is checked for its rule and NSG only).
func (f *File) Check(e *engine.Engine, also ...*model.Environment) error {
	var rules, nsgs []string
	haveRule, haveNSG := map[string]bool{}, map[string]bool{}
	add := func(id string) {
		if !haveRule[id] {
			haveRule[id] = true
			rules = append(rules, id)
		}
	}
	for _, r := range model.DefaultRules() {
		add(r.ID())
	}
	for _, env := range append([]*model.Environment{e.Environment()}, also...) {
		for _, g := range env.NSGs {
			if !haveNSG[g.Name] {
				haveNSG[g.Name] = true
				nsgs = append(nsgs, g.Name)
			}
			for _, r := range g.Rules {
				add(r.ID())
			}
		}
		for _, a := range env.AdminRules {
			add(a.ID())
		}
	}
	for _, fl := range f.Flows {
		if _, err := e.Decide(fl.Flow); fl.ok && err != nil { // a flow with errors of its own is not evaluated
			field := "vm"
			var ie *engine.InputError
			if errors.As(err, &ie) && ie.Field != "" {
				field = ie.Field
			}
			fl.t.Errorf(field, "%s: %s", field, err)
		}
		if fl.Rule != "" && !haveRule[fl.Rule] {
			fl.t.Errorf("rule", "rule %s: %s", quote(fl.Rule), notFound("rule", fl.Rule, rules))
		}
		if fl.NSG != "" && !haveNSG[fl.NSG] {
			fl.t.Errorf("nsg", "nsg %s: %s", quote(fl.NSG), notFound("NSG", fl.NSG, nsgs))
		}
	}
	return f.doc.Err()
}

func notFound(kind, name string, candidates []string) string {
	msg := "no " + kind + " of that name in the estate"
	if len(name) <= 200 {
		if s := model.Suggest(name, candidates); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", quote(s))
		}
	}
	return msg
}
