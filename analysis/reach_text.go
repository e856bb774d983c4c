package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// maxPrefixes is how many prefixes a text line shows before "and N more" (JSON lists all).
const maxPrefixes = 8

// Title is "Inbound TCP to port 443 of web-01 / web-01-nic (10.0.1.4, subnet hub/web)".
func (r *Reach) Title() string {
	q := r.Query
	what := q.Protocol.FlowString()
	if q.Protocol.HasPorts() {
		what += " " + portWord(q.Ports)
	}
	prep := "to"
	if q.Direction == model.Outbound {
		prep = "from"
	}
	return fmt.Sprintf("%s %s %s %s", q.Direction, what, prep, targetName(r.Target))
}

func portWord(p model.PortRange) string {
	switch {
	case p == model.AllPorts():
		return "every port"
	case p.Lo == p.Hi:
		return "port " + p.String()
	}
	return "ports " + p.String()
}

// targetName is "web-01 / web-01-nic (10.0.1.4, subnet hub/web)".
func targetName(t engine.Target) string {
	c := t.IPConfig()
	return fmt.Sprintf("%s / %s (%s, subnet %s)", model.Printable(c.NIC.VM.Name), model.Printable(c.NIC.Name), c.PrivateIP, model.Printable(c.Subnet.Path()))
}

// RuleLine is "securityRules/allow-https (priority 100, Allow) in NSG web-nic-nsg on
// networkInterface/web-01-nic", or says no rule decided.
func (d Decision) RuleLine() string {
	if d.Rule == nil {
		return "no rule: no NSG on the subnet or the NIC and no admin rule matched, so every level allows"
	}
	return fmt.Sprintf("%s (priority %d, %s) in %s", model.Printable(d.Rule.ID()), d.Rule.Priority, d.Rule.Access, layerName(d.Layer))
}

// layerName is "NSG web-nsg on subnet/hub/web" or "security admin rules on virtualNetwork/hub".
func layerName(l *engine.Layer) string {
	if l.Kind == engine.AdminLayer {
		return "security admin rules on " + model.Printable(l.AppliedTo)
	}
	return l.Label()
}

// addrLine shows a set's prefixes, at most maxPrefixes of them.
func addrLine(a AddrSet) string {
	if a.All() {
		return "* (every address)"
	}
	ps := a.Prefixes()
	parts := make([]string, 0, maxPrefixes)
	for _, p := range ps[:min(len(ps), maxPrefixes)] {
		parts = append(parts, p.String())
	}
	s := strings.Join(parts, ", ")
	if len(ps) > maxPrefixes {
		s += fmt.Sprintf(" and %d more (%d prefixes; -o json lists them all)", len(ps)-maxPrefixes, len(ps))
	}
	return s
}

// WriteText writes the answer for people: the allowed space by the rule that allows it, then
// the denied space the same way.
func (r *Reach) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Title() + "\n")
	remote, local := "from", "remote ports"
	if r.Query.Direction == model.Outbound {
		remote = "to"
	}
	section := func(name string, es []Entry) {
		fmt.Fprintf(&b, "\n%s\n", name)
		if len(es) == 0 {
			b.WriteString("  nothing\n")
			return
		}
		var last ruleKey
		for i, e := range es {
			if k := (ruleKey{e.Access, e.Rule, e.Layer}); i == 0 || k != last {
				fmt.Fprintf(&b, "  %s\n", e.RuleLine())
				last = k
			}
			writeParts(&b, remote, e)
			if r.Query.Protocol.HasPorts() {
				fmt.Fprintf(&b, "      %s %s, local ports %s\n", local, e.RemotePorts, e.LocalPorts)
			}
		}
	}
	section("Allowed", r.Allowed)
	section("Denied", r.Denied)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeParts writes a line per prefix of an entry naming what it holds (consecutive prefixes
// that hold the same are one line), up to maxPrefixes lines; the rest are counted, with what
// the entry holds in all.
func writeParts(b *strings.Builder, remote string, e Entry) {
	if e.Remote.All() {
		fmt.Fprintf(b, "    %s * (every address)\n", remote)
		return
	}
	type line struct {
		prefixes []netip.Prefix
		text     string
	}
	var lines []line
	var texts []string
	for i, p := range e.Parts {
		texts = append(texts, p.Text())
		if i+1 < len(e.Parts) && e.Parts[i+1].Prefix == p.Prefix {
			continue
		}
		text := shortListSep(texts, maxNamed, "; ")
		texts = texts[:0]
		if n := len(lines); n > 0 && lines[n-1].text == text {
			lines[n-1].prefixes = append(lines[n-1].prefixes, p.Prefix)
			continue
		}
		lines = append(lines, line{[]netip.Prefix{p.Prefix}, text})
	}
	for _, l := range lines[:min(len(lines), maxPrefixes)] {
		ps := make([]string, 0, 3)
		for _, p := range l.prefixes[:min(len(l.prefixes), 3)] {
			ps = append(ps, p.String())
		}
		what := strings.Join(ps, ", ")
		if len(l.prefixes) > 3 {
			what += fmt.Sprintf(" and %d more", len(l.prefixes)-3)
		}
		fmt.Fprintf(b, "    %s %s — %s\n", remote, what, l.text)
	}
	if n := len(lines) - maxPrefixes; n > 0 {
		fmt.Fprintf(b, "    and %d more line(s) (-o json lists every prefix); in all the entry holds %s\n", n, strings.Join(e.Contains, "; "))
	}
}

func shortListSep(items []string, n int, sep string) string {
	if len(items) <= n {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:n], sep) + fmt.Sprintf("%sand %d more", sep, len(items)-n)
}

// jsonPart is a Part for scripts.
type jsonPart struct {
	Prefix    string   `json:"prefix"`
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Partly    bool     `json:"partly,omitempty"`
	Addresses uint64   `json:"addresses,omitempty"`
	VMs       []string `json:"vms,omitempty"`
}

type jsonEntry struct {
	Prefixes    []string   `json:"prefixes"`
	RemotePorts string     `json:"remotePorts,omitempty"`
	LocalPorts  string     `json:"localPorts,omitempty"`
	Access      string     `json:"access"`
	Rule        string     `json:"rule"`
	NSG         string     `json:"nsg,omitempty"`
	AppliedTo   string     `json:"appliedTo,omitempty"`
	Contains    []jsonPart `json:"contains"`
	Holds       []string   `json:"holds"`
}

func entryJSON(e Entry, ports bool) jsonEntry {
	j := jsonEntry{Prefixes: prefixStrings(e.Remote), Access: e.Access.String(), Holds: e.Contains, Contains: []jsonPart{}}
	if j.Holds == nil {
		j.Holds = []string{}
	}
	for _, p := range e.Parts {
		j.Contains = append(j.Contains, jsonPart{Prefix: p.Prefix.String(), Kind: p.Kind, Name: p.Name, Partly: p.Partly, Addresses: p.Addresses, VMs: partVMs(p.IPConfigs)})
	}
	if ports {
		j.RemotePorts, j.LocalPorts = e.RemotePorts.String(), e.LocalPorts.String()
	}
	if e.Rule != nil {
		j.Rule, j.AppliedTo = e.Rule.ID(), e.Layer.AppliedTo
		if e.Layer.NSG != nil {
			j.NSG = e.Layer.NSG.Name
		}
	}
	return j
}

func prefixStrings(a AddrSet) []string {
	ps := a.Prefixes()
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// MarshalJSON writes the answer for scripts: the target, the query, and every allowed and
// denied entry with all its prefixes.
func (r *Reach) MarshalJSON() ([]byte, error) {
	c := r.Target.IPConfig()
	q := r.Query
	out := struct {
		VM              string      `json:"vm"`
		NIC             string      `json:"nic"`
		IPConfiguration string      `json:"ipConfiguration"`
		LocalIPAddress  string      `json:"localIPAddress"`
		Direction       string      `json:"direction"`
		Protocol        string      `json:"protocol"`
		Ports           string      `json:"ports,omitempty"`
		Allowed         []jsonEntry `json:"allowed"`
		Denied          []jsonEntry `json:"denied"`
	}{VM: c.NIC.VM.Name, NIC: c.NIC.Name, IPConfiguration: c.Name, LocalIPAddress: c.PrivateIP.String(),
		Direction: q.Direction.String(), Protocol: q.Protocol.FlowString(), Allowed: []jsonEntry{}, Denied: []jsonEntry{}}
	ports := q.Protocol.HasPorts()
	if ports {
		out.Ports = q.Ports.String()
	}
	for _, e := range r.Allowed {
		out.Allowed = append(out.Allowed, entryJSON(e, ports))
	}
	for _, e := range r.Denied {
		out.Denied = append(out.Denied, entryJSON(e, ports))
	}
	return json.Marshal(out)
}
