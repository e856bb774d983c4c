// Package flows reads flows files — named flows with the verdict each is expected to get — and
// runs them against a compiled estate: network intent as tests. It also parses a flow from its
// six text fields, which the verify flags, the batch reader and flows files share.
package flows

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// Fields are a flow as text, as az network watcher test-ip-flow takes it.
type Fields struct {
	VM, NIC, Direction, Protocol, Local, Remote string
}

// FieldError is what is wrong with one field.
type FieldError struct {
	Field   string // vm, nic, direction, protocol, local or remote
	Missing bool   // the field is empty; Msg says so
	Msg     string
}

// FieldNames are the fields in their usual order.
var FieldNames = []string{"vm", "nic", "direction", "protocol", "local", "remote"}

// Parse turns the fields into a Flow, with every field that is missing or wrong (nic is
// optional). It checks the flow's own values only: whether the VM exists is the engine's
// question.
func (f Fields) Parse() (engine.Flow, []FieldError) {
	var fl engine.Flow
	var errs []FieldError
	need := func(name, v string) bool {
		if v == "" {
			errs = append(errs, FieldError{Field: name, Missing: true, Msg: "is required"})
			return false
		}
		return true
	}
	fl.VM, fl.NIC = f.VM, f.NIC
	need("vm", f.VM)
	if need("direction", f.Direction) {
		d, err := model.ParseDirection(f.Direction)
		if err != nil {
			errs = append(errs, FieldError{Field: "direction", Msg: quote(f.Direction) + ": must be inbound or outbound"})
		}
		fl.Direction = d
	}
	protoOK := false
	if need("protocol", f.Protocol) {
		p, err := model.ParseFlowProtocol(f.Protocol)
		if err != nil {
			errs = append(errs, FieldError{Field: "protocol", Msg: quote(f.Protocol) + ": must be tcp, udp, icmp, esp or ah"})
		}
		fl.Protocol, protoOK = p, err == nil
	}
	// ICMP, ESP and AH have no ports: the IP alone is enough for them.
	endpoint := func(s string) (netip.Addr, engine.Port, error) {
		if protoOK && !fl.Protocol.HasPorts() && !strings.Contains(s, ":") {
			a, err := model.ParseIP(strings.TrimSpace(s))
			return a, 0, err
		}
		return engine.ParseEndpoint(s)
	}
	if need("local", f.Local) {
		a, p, err := endpoint(f.Local)
		if err != nil {
			errs = append(errs, FieldError{Field: "local", Msg: err.Error()})
		}
		fl.LocalIP, fl.LocalPort = a, p
	}
	if need("remote", f.Remote) {
		a, p, err := endpoint(f.Remote)
		if err != nil {
			errs = append(errs, FieldError{Field: "remote", Msg: err.Error()})
		}
		fl.RemoteIP, fl.RemotePort = a, p
	}
	if len(errs) == 0 {
		// What the fields cannot say alone (a * port on the destination side) is the engine's
		// one check of a flow.
		if err := fl.Validate(); err != nil {
			field := "flow"
			var ie *engine.InputError
			if errors.As(err, &ie) {
				field = ie.Field
			}
			errs = append(errs, FieldError{Field: field, Msg: err.Error()})
		}
	}
	return fl, errs
}

// quote shows a value from the input, escaped so that it cannot drive a terminal.
func quote(s string) string { return strconv.Quote(s) }

// suggest is model.Suggest, bounded for long input.
func suggest(name string, candidates []string) string {
	if len(name) > 100 {
		return ""
	}
	return model.Suggest(name, candidates)
}
