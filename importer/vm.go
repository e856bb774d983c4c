package importer

import (
	"fmt"
	"ipflow/model"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

func vmPower(r *resource) string {
	if r.PowerState != "" {
		return r.PowerState
	}
	var st []statusRaw
	if r.InstanceView != nil {
		st = r.InstanceView.Statuses
	}
	if st == nil {
		st = r.Statuses
	}
	for _, s := range st {
		if strings.HasPrefix(strings.ToLower(s.Code), "powerstate/") {
			return orStr(s.DisplayStatus, s.Code)
		}
	}
	return ""
}

func (im *importer) buildVMs() {
	claimed := map[string]*outVM{} // NIC key -> VM
	nicOrder := map[*outVM][]*entry{}
	nicPrimary := map[string]flexBool{}
	vmByKey := map[string]*outVM{}
	var vms []*outVM
	for _, e := range im.sorted(kVM) {
		vm := &outVM{e: e}
		ps := vmPower(e.r)
		switch p, ok := normPowerState(ps); {
		case ps == "":
			vm.power = "" // reported below if the VM is imported

		case !ok:
			im.warnf("%s: %s: power state %q is not one ipflow knows; imported as running", e.file, e.label(), ps)
			vm.power = "running"
		default:
			vm.power = p
		}
		vms = append(vms, vm)
		vmByKey[e.key] = vm
		if e.r.NetworkProfile == nil {
			continue
		}
		for _, nr := range e.r.NetworkProfile.NetworkInterfaces {
			id := strings.TrimSpace(nr.ID)
			if id == "" {
				continue
			}
			ne := im.lookup(kNIC, id)
			if ne == nil {
				im.warnf("%s: %s: its NIC %s was not exported", e.file, e.label(), refName(id))
				continue
			}
			if other, ok := claimed[ne.key]; ok {
				if other == vm {
					continue
				}
				// A NIC listed by two VMs belongs to the one its own virtualMachine.id names.
				if own := im.lookup(kVM, refID(ne.r.VirtualMachine)); own == e {
					im.warnf("%s: %s: its NIC %q is also listed by VM %q; it goes to %q, the VM the NIC names", e.file, e.label(), ne.name, other.e.name, vm.e.name)
					nicOrder[other] = slices.DeleteFunc(nicOrder[other], func(x *entry) bool { return x == ne })
				} else {
					im.warnf("%s: %s: its NIC %q is also listed by VM %q; it stays with %q", e.file, e.label(), ne.name, other.e.name, other.e.name)
					continue
				}
			}
			claimed[ne.key] = vm
			nicOrder[vm] = append(nicOrder[vm], ne)
			nicPrimary[ne.key] = nr.primary()
		}
	}
	// NICs that name their VM but were not listed by it; NICs without a VM.
	for _, ne := range im.sorted(kNIC) {
		if _, ok := claimed[ne.key]; ok {
			continue
		}
		vmID := refID(ne.r.VirtualMachine)
		if vmID != "" {
			if ve := im.lookup(kVM, vmID); ve != nil {
				vm := vmByKey[ve.key]
				claimed[ne.key] = vm
				nicOrder[vm] = append(nicOrder[vm], ne)
				continue
			}
		}
		why := "it is not attached to a VM"
		switch {
		case vmID != "":
			why = fmt.Sprintf("its VM %s was not exported", refName(vmID))
		case refID(ne.r.PrivateEndpoint) != "":
			why = fmt.Sprintf("it belongs to private endpoint %s, not to a VM", refName(refID(ne.r.PrivateEndpoint)))
		}
		var asgs []string
		for _, c := range ne.r.IPConfigurations {
			for _, a := range c.ApplicationSecurityGroups {
				if a.ID != "" {
					if id, ok := parseID(a.ID); ok && !containsStr(asgs, id.last()) {
						asgs = append(asgs, id.last())
					}
				}
			}
		}
		extra := ""
		if len(asgs) > 0 {
			extra = fmt.Sprintf(" (its IP addresses are missing from ASG %s)", quoteList(asgs))
		}
		im.warnf("%s: %s: %s; skipped%s", ne.file, ne.label(), why, extra)
	}
	for _, vm := range vms {
		// Azure keeps all NICs of a VM in one VNet: the primary NIC's (else the first built one's).
		var home *outVNet
		if i := slices.IndexFunc(nicOrder[vm], func(ne *entry) bool { return nicIsPrimary(ne, nicPrimary) }); i >= 0 {
			home = im.nicVNet(nicOrder[vm][i])
		}
		for _, ne := range nicOrder[vm] {
			if n := im.buildNIC(ne, vm, home); n != nil {
				if home == nil {
					home = n.ipcs[0].subnet.vnet
				}
				if p, ok := nicPrimary[ne.key]; ok && p.Set {
					n.primary = p.V
				} else {
					n.primary = ne.r.Primary.Set && ne.r.Primary.V
				}
				vm.nics = append(vm.nics, n)
			}
		}
		if len(vm.nics) == 0 {
			im.warnf("%s: %s: none of its NICs could be imported; VM skipped", vm.e.file, vm.e.label())
			continue
		}
		// Exactly one primary NIC, listed first.
		pi := -1
		for i, n := range vm.nics {
			if n.primary && pi < 0 {
				pi = i
			}
			n.primary = false
		}
		if pi < 0 {
			pi = 0
		}
		p := vm.nics[pi]
		p.primary = true
		copy(vm.nics[1:pi+1], vm.nics[:pi])
		vm.nics[0] = p
		if vm.power == "" {
			vm.power = "running"
			im.noPower[vm.e.file] = append(im.noPower[vm.e.file], vm.e.name)
		}
		im.vms = append(im.vms, vm)
	}
	files := make([]string, 0, len(im.noPower))
	for f := range im.noPower {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		names := im.noPower[f]
		shown := names
		more := ""
		if len(shown) > 10 {
			shown, more = shown[:10], fmt.Sprintf(" and %d more", len(names)-10)
		}
		im.warnf("%s: %s no powerState (%s%s); imported as running: export VMs with az vm list -d to get it",
			f, countOf(len(names), "VM has", "VMs have"), quoteList(shown), more)
	}
}

func nicIsPrimary(ne *entry, listed map[string]flexBool) bool {
	if p, ok := listed[ne.key]; ok && p.Set {
		return p.V
	}
	return ne.r.Primary.Set && ne.r.Primary.V
}

// buildNIC converts a NIC of vm; home, when set, is the VM's VNet, which the NIC must be in.
// nicVNet is the VNet of a NIC's primary IP configuration (else its first), before it is built.
func (im *importer) nicVNet(ne *entry) *outVNet {
	var v *outVNet
	for i := range ne.r.IPConfigurations {
		c := &ne.r.IPConfigurations[i]
		if sub := im.subnets[idKey(refID(c.Subnet))]; sub != nil {
			if c.Primary.Set && c.Primary.V {
				return sub.vnet
			}
			if v == nil {
				v = sub.vnet
			}
		}
	}
	return v
}

func (im *importer) buildNIC(ne *entry, vm *outVM, home *outVNet) *outNIC {
	where := lazy(func() string { return ne.file + ": " + ne.label() })
	n := &outNIC{e: ne, fwd: ne.r.EnableIPForwarding.Set && ne.r.EnableIPForwarding.V}
	nsgID := refID(ne.r.NetworkSecurityGroup)
	if nsgID != "" {
		if e := im.lookup(kNSG, nsgID); e != nil {
			n.nsg = im.nsgs[e.key]
		} else {
			im.warnf("%s: its NSG %s was not exported; imported without an NSG, so verdicts miss that NSG's rules", where, refName(nsgID))
		}
	} else if k, ok := im.nsgOfNIC[ne.key]; ok {
		n.nsg = im.nsgs[k]
	}
	names := map[string]bool{}
	for i := range ne.r.IPConfigurations {
		c := &ne.r.IPConfigurations[i]
		name := strings.TrimSpace(c.Name)
		if name == "" {
			if id, ok := parseID(c.ID); ok {
				name = id.last()
			} else {
				name = fmt.Sprintf("ipconfig%d", i+1)
			}
		}
		cw := lazy(func() string { return fmt.Sprintf("%s, IP configuration %q", where, name) })
		if names[strings.ToLower(name)] {
			im.warnf("%s: another IP configuration of the NIC has the same name; skipped", cw)
			continue
		}
		ipText := strings.TrimSpace(c.PrivateIPAddress)
		addr, err := netip.ParseAddr(ipText)
		switch {
		case strings.EqualFold(strings.TrimSpace(c.PrivateIPAddressVersion), "IPv6") || (err == nil && !addr.Is4()):
			im.warnf("%s: IPv6 (%s), which ipflow does not support yet; skipped", cw, orStr(ipText, "no address"))
			continue
		case ipText == "":
			im.warnf("%s: it has no private IP address; skipped", cw)
			continue
		case err != nil || addr.Zone() != "":
			im.warnf("%s: private IP %q is not an IPv4 address; skipped", cw, ipText)
			continue
		}
		subID := refID(c.Subnet)
		sub := im.subnets[idKey(subID)]
		if sub == nil {
			vnetKey := parentKey(subID)
			switch {
			case subID == "":
				im.warnf("%s: it names no subnet; skipped", cw)
			case im.entries[kVNet][vnetKey] == nil || im.entries[kVNet][vnetKey].synthetic:
				im.warnf("%s: its VNet %s was not exported; skipped", cw, refName(parentRef(subID)))
			case im.vnets[vnetKey] == nil:
				im.warnf("%s: its VNet %s was skipped; skipped too", cw, refName(parentRef(subID)))
			default:
				im.warnf("%s: its subnet %s is not in the exported VNet or was skipped; skipped", cw, refName(subID))
			}
			continue
		}
		if !sub.prefix.Contains(addr) {
			im.warnf("%s: private IP %s is outside its subnet %q (%s); skipped", cw, addr, sub.name, sub.prefix)
			continue
		}
		if other, ok := sub.vnet.ips[addr]; ok {
			im.warnf("%s: private IP %s is also used by %s in the same VNet; skipped", cw, addr, other)
			continue
		}
		ipc := &outIPC{name: name, ip: addr, subnet: sub, primary: c.Primary.Set && c.Primary.V}
		seen := map[*outASG]bool{}
		for _, a := range c.ApplicationSecurityGroups {
			aid := strings.TrimSpace(a.ID)
			if aid == "" {
				continue
			}
			asg := im.asgRef(aid)
			if asg == nil {
				im.warnf("%s: application security group id %q is not an Azure resource id; membership skipped", cw, aid)
				continue
			}
			if asg.vnet != nil && asg.vnet != sub.vnet {
				im.warnf("%s: ASG %q already has members in another VNet (Azure keeps an ASG's members in one VNet); membership skipped", cw, asg.e.name)
				continue
			}
			if seen[asg] {
				continue
			}
			if len(ipc.asgs) == model.MaxASGsPerIPConfig {
				im.warnf("%s: ASG %q is beyond the %d application security groups Azure allows per IP configuration; membership skipped", cw, asg.e.name, model.MaxASGsPerIPConfig)
				continue
			}
			if asg.members == model.MaxMembersPerASG {
				im.warnf("%s: ASG %q already has the %d members Azure allows; membership skipped", cw, asg.e.name, model.MaxMembersPerASG)
				continue
			}
			seen[asg] = true
			asg.vnet = sub.vnet
			asg.members++
			ipc.asgs = append(ipc.asgs, asg)
		}
		names[strings.ToLower(name)] = true
		sub.vnet.ips[addr] = fmt.Sprintf("NIC %q", ne.name)
		n.ipcs = append(n.ipcs, ipc)
	}
	if len(n.ipcs) == 0 {
		im.warnf("%s: none of its IP configurations could be imported; NIC skipped", where)
		return nil
	}
	pi := 0
	for i, c := range n.ipcs {
		if c.primary {
			pi = i
			break
		}
	}
	// All IP configurations of a NIC are in one VNet (as Azure requires): keep the primary's.
	primary := n.ipcs[pi]
	kept := n.ipcs[:0]
	for _, c := range n.ipcs {
		if c.subnet.vnet != primary.subnet.vnet {
			im.warnf("%s, IP configuration %q: its subnet is in VNet %q, but the NIC's primary IP configuration is in VNet %q; skipped", where, c.name, c.subnet.vnet.e.name, primary.subnet.vnet.e.name)
			delete(c.subnet.vnet.ips, c.ip)
			continue
		}
		kept = append(kept, c)
	}
	n.ipcs = kept
	if home != nil && primary.subnet.vnet != home {
		im.warnf("%s: it is in VNet %q, but VM %q has its primary NIC in VNet %q (Azure keeps all NICs of a VM in one VNet); skipped", where, primary.subnet.vnet.e.name, vm.e.name, home.e.name)
		for _, c := range n.ipcs { // undo what the NIC claimed
			delete(c.subnet.vnet.ips, c.ip)
			for _, a := range c.asgs {
				if a.members--; a.members == 0 {
					a.vnet = nil
				}
			}
		}
		return nil
	}
	for i, c := range n.ipcs {
		if c == primary {
			pi = i
		}
	}
	for i, c := range n.ipcs {
		c.primary = i == pi
	}
	return n
}
