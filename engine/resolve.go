package engine

import (
	"fmt"
	"strings"

	"ipflow/model"
)

// InputError is a flow the engine cannot evaluate: which input is wrong, what is wrong with it
// and what would be valid. Field names the input as the CLI's flags do: vm, nic, direction,
// protocol, local or remote (local and remote are IP:PORT, so a port error names them too).
type InputError struct {
	Field   string
	Problem string // what is wrong: "local port * is not allowed inbound"
	Valid   string // what would be valid, in words; may be empty
}

func (e *InputError) Error() string {
	if e.Valid == "" {
		return e.Problem
	}
	return e.Problem + "; " + e.Valid
}

// inputErr builds an InputError; valid is a plain string (no formatting), args format problem.
func inputErr(field, valid, problem string, args ...any) error {
	return &InputError{Field: field, Problem: fmt.Sprintf(problem, args...), Valid: valid}
}

// resolve finds the IP configuration a flow is evaluated for: the named NIC, or the VM's NIC
// whose IP configuration holds the local IP. It allocates only
// when it fails.
func (e *Engine) resolve(f *Flow) (*target, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ent := e.vms.get(f.VM)
	if ent == nil {
		return nil, e.unknownVM(f.VM)
	}
	vm := ent.vm
	if !vm.PowerState.Allocated() {
		return nil, inputErr("vm", "IP flow verify requires that the VM is allocated (start it, or pick another VM)", "VM %q is %s", vm.Name, vm.PowerState)
	}
	if f.NIC != "" {
		found := false
		for _, n := range vm.NICs {
			found = found || n.Name == f.NIC
		}
		if !found {
			return nil, inputErr("nic", "its NICs: "+nicList(vm), "VM %q has no NIC %q", vm.Name, f.NIC)
		}
	}
	local := ip4(f.LocalIP)
	for _, t := range ent.targets {
		if t.ip == local && (f.NIC == "" || t.ipc.NIC.Name == f.NIC) {
			return t, nil
		}
	}
	if f.NIC != "" {
		return nil, inputErr("local", "its NICs: "+nicList(vm), "local IP %s is not on NIC %q of VM %q", f.LocalIP, f.NIC, vm.Name)
	}
	return nil, inputErr("local", "its NICs: "+nicList(vm), "local IP %s belongs to no NIC of VM %q", f.LocalIP, vm.Name)
}

func (e *Engine) unknownVM(name string) error {
	if name == "" {
		return inputErr("vm", "known VMs: "+listSome(e.vmNames, 12), "no VM given")
	}
	msg := fmt.Sprintf("unknown VM %q", name)
	if s := model.Suggest(name, e.vmNames); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return inputErr("vm", "known VMs: "+listSome(e.vmNames, 12), "%s", msg)
}

// nicList is "web-01-nic (10.0.1.4, 10.0.1.5), web-01-nic2 (10.0.2.4)".
func nicList(vm *model.VM) string {
	parts := make([]string, 0, len(vm.NICs))
	for _, n := range vm.NICs {
		ips := make([]string, 0, len(n.IPConfigs))
		for _, c := range n.IPConfigs {
			ips = append(ips, c.PrivateIP.String())
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", model.Printable(n.Name), strings.Join(ips, ", ")))
	}
	return strings.Join(parts, ", ")
}

func listSome(names []string, n int) string {
	if len(names) == 0 {
		return "none"
	}
	shown := make([]string, 0, min(n, len(names)))
	for _, s := range names[:min(n, len(names))] {
		shown = append(shown, model.Printable(s))
	}
	out := strings.Join(shown, ", ")
	if len(names) > n {
		out += fmt.Sprintf(" and %d more", len(names)-n)
	}
	return out
}
