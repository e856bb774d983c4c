package tui

import (
	"fmt"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// open builds the screen stack for start: a complete flow opens on its verdict with VMs › vm ›
// nic › flow behind it; a flow the engine refuses opens its form with the engine's message;
// a VM alone opens its NICs, a VM and a NIC that NIC's form. Unknown names leave the UI on the
// deepest screen that exists, with the reason on the status line.
func (m *Model) open(start Start) {
	name := start.VM
	if start.Flow != nil && start.Flow.VM != "" {
		name = start.Flow.VM
	}
	nicName := start.NIC
	if start.Flow != nil && start.Flow.NIC != "" {
		nicName = start.Flow.NIC
	}
	if name == "" {
		if start.Flow != nil {
			m.setStatus("no VM given: pick one", true)
		}
		return
	}
	vms := m.stack[0].(*vmsScreen)
	vm := findVM(m.c.env, name)
	if vm == nil {
		msg := fmt.Sprintf("unknown VM %q", safe(name))
		if start.Flow != nil {
			if _, err := m.c.eng.Verify(*start.Flow); err != nil {
				msg = err.Error()
			}
		} else if s := model.Suggest(name, vmNames(m.c.env)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", safe(s))
		}
		m.setStatus(safe(msg), true)
		return
	}
	vms.selectVM(vm)
	nics := newNICs(m.c, vm)
	m.push(nics)
	if !vm.PowerState.Allocated() {
		return // the NIC list says why it cannot be checked
	}

	if start.Flow == nil {
		if nicName == "" {
			return
		}
		nic := findNIC(vm, nicName)
		if nic == nil {
			m.setStatus(noNIC(vm, nicName), true)
			return
		}
		nics.selectNIC(nic)
		if len(nic.IPConfigs) > 0 {
			m.push(newForm(m.c, vm, nic))
		}
		return
	}

	flow := *start.Flow
	flow.VM = vm.Name
	m.c.last = &flow // a NIC opened later starts from this flow
	res, err := m.c.eng.Verify(flow)
	if err == nil {
		nics.selectNIC(res.NIC)
		m.push(newFormFor(m.c, vm, res.NIC, res.Flow))
		m.push(newVerdict(m.c, res))
		return
	}
	// Refused: open the form of the NIC the flow names, or the one holding its local IP, or
	// the primary, with the engine's message beside the field it is about.
	nic := findNIC(vm, nicName)
	if nic == nil && nicName != "" {
		m.setStatus(noNIC(vm, nicName), true)
		return
	}
	if nic == nil {
		nic = nicWithIP(vm, flow)
	}
	if nic == nil || len(nic.IPConfigs) == 0 {
		m.setStatus(safe(err.Error()), true)
		return
	}
	nics.selectNIC(nic)
	f := newFormFor(m.c, vm, nic, flow)
	f.setEngineErr(err)
	m.push(f)
}

func findVM(env *model.Environment, name string) *model.VM {
	for _, vm := range env.VMs {
		if vm.Name == name {
			return vm
		}
	}
	return nil
}

func vmNames(env *model.Environment) []string {
	out := make([]string, len(env.VMs))
	for i, vm := range env.VMs {
		out[i] = vm.Name
	}
	return out
}

// findNIC is vm's NIC of that name; nil when there is none (or no vm). Screens made before a
// what-if change hold the loaded estate's VMs and NICs, and the what-if has its own copies: they
// find theirs again with findNIC(findVM(env, vm.Name), nic.Name).
func findNIC(vm *model.VM, name string) *model.NIC {
	if vm == nil || name == "" {
		return nil
	}
	for _, n := range vm.NICs {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func nicWithIP(vm *model.VM, flow engine.Flow) *model.NIC {
	for _, n := range vm.NICs {
		for _, c := range n.IPConfigs {
			if c.PrivateIP == flow.LocalIP {
				return n
			}
		}
	}
	return vm.PrimaryNIC()
}

func noNIC(vm *model.VM, name string) string {
	names := make([]string, len(vm.NICs))
	for i, n := range vm.NICs {
		names[i] = safe(n.Name)
	}
	return fmt.Sprintf("VM %q has no NIC %q; its NICs: %s", safe(vm.Name), safe(name), strings.Join(names, ", "))
}
