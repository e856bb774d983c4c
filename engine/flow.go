package engine

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ipflow/model"
)

// Port is a flow's port: 0..65535, or AnyPort (*), which Azure accepts only for the source side.
type Port int32

// AnyPort is the * port.
const AnyPort Port = -1

func (p Port) String() string {
	if p == AnyPort {
		return "*"
	}
	return strconv.Itoa(int(p))
}

// ParsePort parses a flow port: * or a single integer 0..65535.
func ParsePort(s string) (Port, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return AnyPort, nil
	}
	if s == "" || len(s) > 5 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, fmt.Errorf("port %q: must be a single port 0..65535 (or * for the source side)", s)
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, fmt.Errorf("port %q: out of range 0..65535", s)
	}
	return Port(n), nil
}

// ParseEndpoint parses IP:PORT, as az network watcher test-ip-flow takes --local and --remote.
func ParseEndpoint(s string) (netip.Addr, Port, error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.Addr{}, 0, fmt.Errorf("%q: must be IP:PORT, like 10.0.1.4:443 (the port may be * on the source side)", s)
	}
	host, port := s[:i], s[i+1:]
	if strings.Contains(host, ":") || strings.HasPrefix(host, "[") {
		return netip.Addr{}, 0, fmt.Errorf("%q: IPv6 is not supported yet", s)
	}
	a, err := model.ParseIP(host)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	p, err := ParsePort(port)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	return a, p, nil
}

// Flow is the question IP flow verify answers: a packet to or from a VM's NIC.
type Flow struct {
	VM         string
	NIC        string // optional: the NIC whose IP configuration holds LocalIP is used
	Direction  model.Direction
	Protocol   model.Protocol
	LocalIP    netip.Addr
	LocalPort  Port
	RemoteIP   netip.Addr
	RemotePort Port
}

// Source is the flow's source address and port: remote when inbound, local when outbound.
func (f Flow) Source() (netip.Addr, Port) {
	if f.Direction == model.Inbound {
		return f.RemoteIP, f.RemotePort
	}
	return f.LocalIP, f.LocalPort
}

// Destination is the flow's destination address and port.
func (f Flow) Destination() (netip.Addr, Port) {
	if f.Direction == model.Inbound {
		return f.LocalIP, f.LocalPort
	}
	return f.RemoteIP, f.RemotePort
}

// String is a one-line description: "Inbound TCP 13.107.21.200:60000 → 10.0.1.4:123".
func (f Flow) String() string {
	sa, sp := f.Source()
	da, dp := f.Destination()
	if !f.Protocol.HasPorts() {
		return fmt.Sprintf("%s %s %s → %s", f.Direction, f.Protocol.FlowString(), sa, da)
	}
	return fmt.Sprintf("%s %s %s:%s → %s:%s", f.Direction, f.Protocol.FlowString(), sa, sp, da, dp)
}

// Validate reports what is wrong with a flow's own values, independent of any estate, as an
// *InputError naming the field. It is the one check of a flow: the CLI, the TUI's form and
// Verify all use it. (Whether the VM, NIC and local IP exist is for Verify to say.)
func (f Flow) Validate() error {
	switch {
	case f.Protocol == model.AnyProtocol || f.Protocol > model.AH:
		return inputErr("protocol", "must be one of tcp, udp, icmp, esp, ah", "protocol %s is not a flow protocol", f.Protocol)
	case f.Direction > model.Outbound:
		return inputErr("direction", "must be inbound or outbound", "direction %d is not a direction", f.Direction)
	case !f.LocalIP.Is4():
		return inputErr("local", "must be IPv4 (IPv6 is not supported yet)", "local address %s", addrText(f.LocalIP))
	case !f.RemoteIP.Is4():
		return inputErr("remote", "must be IPv4 (IPv6 is not supported yet)", "remote address %s", addrText(f.RemoteIP))
	case f.LocalPort < AnyPort || f.LocalPort > 65535:
		return inputErr("local", "a port is 0..65535", "local port %d is out of range", f.LocalPort)
	case f.RemotePort < AnyPort || f.RemotePort > 65535:
		return inputErr("remote", "a port is 0..65535", "remote port %d is out of range", f.RemotePort)
	case !f.Protocol.HasPorts():
		return nil
	case f.Direction == model.Inbound && f.LocalPort == AnyPort:
		return inputErr("local", "* is accepted only for the source port (the remote port when inbound)", "local port * is not allowed inbound")
	case f.Direction == model.Outbound && f.RemotePort == AnyPort:
		return inputErr("remote", "* is accepted only for the source port (the local port when outbound)", "remote port * is not allowed outbound")
	}
	return nil
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return "missing"
	}
	return a.String()
}
