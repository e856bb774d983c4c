package model

import (
	"fmt"
	"strconv"
	"strings"
)

func (l *loader) readVM(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysVM, nil)
	vm := &VM{Name: name, Pos: t.hpos()}
	if s, ok := t.str("power_state", optional); ok {
		ps, err := ParsePowerState(s)
		if err != nil {
			t.errf("power_state", "%v", err)
		}
		vm.PowerState = ps
	}
	if named && l.vms.define(l, name, t, vm) {
		l.env.VMs = append(l.env.VMs, vm)
	}
	nics := t.tables("nic", "vm.nic", "nic")
	if len(nics) == 0 && (!t.has("nic") || isEmptyArray(t.m["nic"])) {
		l.errAt(t.hpos(), t.resource(), "needs at least one NIC: add [[vm.nic]] after it")
	}
	var primary, home *NIC
	var primaryPos Pos
	for _, nt := range nics {
		n := l.readNIC(nt, vm)
		if n == nil {
			continue
		}
		// All NICs of a VM are in one VNet (as Azure requires).
		if c := firstPlaced(n); c != nil {
			if home == nil {
				home = n
			} else if hc := firstPlaced(home); hc.Subnet.VNet != c.Subnet.VNet {
				l.errAt(l.ipcSubnetPos[c].pos(), nt.resource(), fmt.Sprintf(
					"subnet %q is in vnet %q, but nic %q of this VM is in vnet %q (%s); all NICs of a VM must be in one VNet",
					c.Subnet.Path(), c.Subnet.VNet.Name, home.Name, hc.Subnet.VNet.Name, l.ipcSubnetPos[hc].pos()))
			}
		}
		if n.Primary {
			if primary != nil {
				nt.errf("primary", "primary: nic %q is already the primary NIC of vm %q (%s); at most one NIC is primary", primary.Name, vm.Name, primaryPos)
				n.Primary = false
			} else {
				primary, primaryPos = n, nt.pos("primary")
			}
		}
		vm.NICs = append(vm.NICs, n)
	}
	if primary == nil && len(vm.NICs) > 0 {
		vm.NICs[0].Primary = true
	}
	t.done()
}

// firstPlaced is the first IP configuration of n that is in a subnet, or nil.
func firstPlaced(n *NIC) *IPConfig {
	for _, c := range n.IPConfigs {
		if c.Subnet != nil {
			return c
		}
	}
	return nil
}

var shorthandKeys = []string{"private_ip", "subnet", "asgs"}

func (l *loader) readNIC(t *tab, vm *VM) *NIC {
	name, named := l.readName(t)
	if vm.Name == "" {
		named = false
	}
	t.unknown(keysNIC, nil)
	n := &NIC{Name: name, VM: vm, Pos: t.hpos()}
	if named && !l.nics.define(l, name, t, n) {
		named = false
	}
	n.NSG = l.nsgRef(t)
	n.Primary, _ = t.boolean("primary")
	n.IPForwarding, _ = t.boolean("ip_forwarding")

	var short []string
	for _, k := range shorthandKeys {
		if t.has(k) {
			short = append(short, k)
		}
	}
	cfgs := t.tables("ip_config", "vm.nic.ip_config", "ip_config")
	switch {
	case len(short) > 0 && t.has("ip_config"):
		t.errf(short[0], "%s and [[vm.nic.ip_config]] are exclusive: use the shorthand (private_ip, subnet, asgs) for one IP configuration, or ip_config tables, not both", strings.Join(short, ", "))
	case len(short) > 0:
		c := &IPConfig{Name: "ipconfig1", NIC: n, Primary: true}
		if l.readIPConfigFields(t, c) {
			n.IPConfigs = append(n.IPConfigs, c)
		}
	case len(cfgs) == 0:
		if !t.has("ip_config") || isEmptyArray(t.m["ip_config"]) {
			l.errAt(t.hpos(), t.resource(), "needs an IP configuration: set private_ip and subnet, or add [[vm.nic.ip_config]]")
		}
	default:
		var primary *IPConfig
		var primaryPos Pos
		// ip_config names are optional (ipconfigN by default), so a clash is shown at the name.
		cfgNames := newRegistry[*IPConfig]("ip_config", resName("", "nic", n.Name))
		cfgNames.caseNote = false
		for i, ct := range cfgs {
			c := &IPConfig{Name: "ipconfig" + strconv.Itoa(i+1), NIC: n}
			if s, ok := ct.str("name", optional); ok {
				if strings.TrimSpace(s) == "" {
					ct.errf("name", "name: must not be empty")
				}
				c.Name = s
			}
			ct.setName(c.Name)
			ct.unknown(keysIPConfig, nil)
			dup := cfgNames.clash(l, c.Name, ct.pos("name"), ct)
			c.Primary, _ = ct.boolean("primary")
			if !l.readIPConfigFields(ct, c) || dup {
				continue
			}
			cfgNames.add(c.Name, ct.hpos(), c)
			if c.Primary {
				if primary != nil {
					ct.errf("primary", "primary: ip_config %q is already the primary IP configuration of nic %q (%s); at most one is primary", primary.Name, n.Name, primaryPos)
					c.Primary = false
				} else {
					primary, primaryPos = c, ct.pos("primary")
				}
			}
			n.IPConfigs = append(n.IPConfigs, c)
		}
		if primary == nil && len(n.IPConfigs) > 0 {
			n.IPConfigs[0].Primary = true
		}
	}
	// All IP configurations of a NIC are in one VNet (as in Azure); the engine relies on it.
	var home *IPConfig
	for _, c := range n.IPConfigs {
		if c.Subnet == nil {
			continue
		}
		if home == nil {
			home = c
		} else if c.Subnet.VNet != home.Subnet.VNet {
			l.errAt(l.ipcSubnetPos[c].pos(), resName(t.resource(), "ip_config", c.Name), fmt.Sprintf(
				"subnet %q is in vnet %q, but ip_config %q of this NIC is in vnet %q; all IP configurations of a NIC must be in one VNet",
				c.Subnet.Path(), c.Subnet.VNet.Name, home.Name, home.Subnet.VNet.Name))
		}
	}
	for _, ct := range cfgs {
		ct.done()
	}
	t.done()
	if !named {
		return nil
	}
	return n
}

// readIPConfigFields reads private_ip, subnet and asgs (of an ip_config table or of the NIC
// shorthand) into c and links it. ok is false when c is unusable.
func (l *loader) readIPConfigFields(t *tab, c *IPConfig) bool {
	ok := true
	if s, found := t.str("private_ip", "an IPv4 address"); found {
		ip, err := ParseIP(strings.TrimSpace(s))
		if err != nil {
			t.errf("private_ip", "private_ip %v", err)
			ok = false
		} else {
			c.PrivateIP = ip
		}
	} else {
		ok = false
	}
	if s, found := t.str("subnet", "VNET/SUBNET"); found {
		c.Subnet = l.subnetRef(t, s)
		if c.Subnet == nil {
			ok = false
		}
	} else {
		ok = false
	}
	l.ipcSubnetPos[c] = at{t, "subnet"}
	names, _, _ := t.strs("asgs")
	if len(names) > MaxASGsPerIPConfig {
		t.errf("asgs", "asgs: %d ASGs; Azure allows at most %d application security groups per IP configuration", len(names), MaxASGsPerIPConfig)
	}
	if ok {
		sub := c.Subnet
		_, prefixOK := l.subnetPos[sub]
		if prefixOK && !sub.Prefix.Contains(c.PrivateIP) {
			t.errf("private_ip", "private_ip %s is outside subnet %q (%s)", c.PrivateIP, sub.Path(), sub.Prefix)
			ok = false
		}
		if prefixOK && ok {
			lo, hi := span(sub.Prefix)
			if ip := u32(c.PrivateIP); ip-lo < 4 || ip == hi {
				t.warnf("private_ip", "private_ip %s: Azure reserves the first four addresses and the last address of subnet %s, so it never assigns this one", c.PrivateIP, sub.Prefix)
			}
		}
		if ok {
			k := vnetIP{sub.VNet, c.PrivateIP}
			if prev, dup := l.ipOwner[k]; dup {
				t.errf("private_ip", "private_ip %s is already used in vnet %q by %s (%s)", c.PrivateIP, sub.VNet.Name, ipcRes(prev.at.t, prev.cfg), prev.at.pos())
			} else {
				l.ipOwner[k] = ipUse{c, at{t, "private_ip"}}
			}
		}
	}
	seen := map[*ASG]bool{}
	for _, name := range names {
		a, found := l.asgs.byName[name]
		if !found {
			t.errf("asgs", "asgs: %s", l.noSuch("asg", name, l.asgs.names))
			continue
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		c.ASGs = append(c.ASGs, a)
		if !ok {
			continue
		}
		a.Members = append(a.Members, c)
		if len(a.Members) == MaxMembersPerASG+1 {
			t.errf("asgs", "asgs: asg %q already has %s members; Azure allows at most %s IP configurations per ASG", a.Name, formatCount(MaxMembersPerASG), formatCount(MaxMembersPerASG))
		}
		if home, has := l.asgHome[a]; !has {
			l.asgHome[a] = asgMember{c, at{t, "asgs"}}
		} else if hv := home.cfg.Subnet.VNet; hv != c.Subnet.VNet {
			t.errf("asgs", "asgs: asg %q already has members in vnet %q (%s, %s), and this IP configuration is in vnet %q; all members of an ASG must be in one VNet",
				a.Name, hv.Name, ipcRes(home.at.t, home.cfg), home.at.pos(), c.Subnet.VNet.Name)
		}
	}
	return ok
}
