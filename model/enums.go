package model

import (
	"fmt"
	"strings"
)

// Direction is the direction of a rule or a flow, relative to the VM.
type Direction uint8

const (
	Inbound Direction = iota
	Outbound
)

func (d Direction) String() string {
	if d == Outbound {
		return "Outbound"
	}
	return "Inbound"
}

// ParseDirection accepts Azure's spelling in any case.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "inbound":
		return Inbound, nil
	case "outbound":
		return Outbound, nil
	}
	return 0, fmt.Errorf("direction %q: must be Inbound or Outbound", s)
}

// Access is what a rule does with a flow it matches, and the verdict of a flow.
type Access uint8

const (
	Allow Access = iota
	Deny
	// AlwaysAllow exists only on security admin rules: allowed, NSGs skipped.
	AlwaysAllow
)

func (a Access) String() string {
	switch a {
	case Deny:
		return "Deny"
	case AlwaysAllow:
		return "AlwaysAllow"
	}
	return "Allow"
}

// ParseAccess accepts Allow and Deny, and AlwaysAllow when admin is true.
func ParseAccess(s string, admin bool) (Access, error) {
	switch strings.ToLower(s) {
	case "allow":
		return Allow, nil
	case "deny":
		return Deny, nil
	case "alwaysallow":
		if admin {
			return AlwaysAllow, nil
		}
		return 0, fmt.Errorf("access %q: AlwaysAllow exists only on admin rules; must be Allow or Deny", s)
	}
	if admin {
		return 0, fmt.Errorf("access %q: must be Allow, AlwaysAllow or Deny", s)
	}
	return 0, fmt.Errorf("access %q: must be Allow or Deny", s)
}

// Protocol is a rule's protocol (Any matches every protocol) or a flow's protocol.
type Protocol uint8

const (
	AnyProtocol Protocol = iota
	TCP
	UDP
	ICMP
	ESP
	AH
)

// String is Azure's spelling in a security rule: Tcp, Udp, Icmp, Esp, Ah, *.
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "Tcp"
	case UDP:
		return "Udp"
	case ICMP:
		return "Icmp"
	case ESP:
		return "Esp"
	case AH:
		return "Ah"
	}
	return "*"
}

// FlowString is the spelling IP flow verify uses for a flow: TCP, UDP, ...
func (p Protocol) FlowString() string {
	if p == AnyProtocol {
		return "*"
	}
	return strings.ToUpper(p.String())
}

// HasPorts reports whether flows of this protocol carry ports.
func (p Protocol) HasPorts() bool { return p == TCP || p == UDP }

// ParseProtocol accepts a rule protocol: Tcp, Udp, Icmp, Esp, Ah, * or Any, in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	case "icmp":
		return ICMP, nil
	case "esp":
		return ESP, nil
	case "ah":
		return AH, nil
	case "*", "any":
		return AnyProtocol, nil
	}
	return 0, fmt.Errorf("protocol %q: must be Tcp, Udp, Icmp, Esp, Ah or *", s)
}

// ParseFlowProtocol accepts the protocol of a flow: one concrete protocol, never *.
func ParseFlowProtocol(s string) (Protocol, error) {
	p, err := ParseProtocol(s)
	if err != nil || p == AnyProtocol {
		return 0, fmt.Errorf("protocol %q: must be tcp, udp, icmp, esp or ah", s)
	}
	return p, nil
}

// PowerState is a VM's power state as Azure reports it.
type PowerState uint8

const (
	Running PowerState = iota
	Stopped
	Starting
	Stopping
	Deallocating
	Deallocated
)

var powerStateNames = [...]string{"running", "stopped", "starting", "stopping", "deallocating", "deallocated"}

func (s PowerState) String() string {
	if int(s) < len(powerStateNames) {
		return powerStateNames[s]
	}
	return "unknown"
}

// Allocated reports whether IP flow verify can check the VM.
func (s PowerState) Allocated() bool { return s != Deallocated && s != Deallocating }

// ParsePowerState accepts the six states in any case, with or without Azure's "VM " prefix.
func ParsePowerState(s string) (PowerState, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "vm ")
	t = strings.TrimPrefix(t, "powerstate/")
	for i, n := range powerStateNames {
		if t == n {
			return PowerState(i), nil
		}
	}
	return 0, fmt.Errorf("power_state %q: must be one of %s", s, strings.Join(powerStateNames[:], ", "))
}
