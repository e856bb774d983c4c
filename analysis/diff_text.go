package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"ipflow/model"
)

// flowLine is "TCP from 10.0.0.0/8 (remote ports *, local ports 22)" for a box; the direction
// says whether the remote side is the source (inbound) or the destination.
func flowLine(b Box, d model.Direction) string {
	prep := "from"
	if d == model.Outbound {
		prep = "to"
	}
	s := fmt.Sprintf("%s %s %s", b.Protocols, prep, addrLine(b.Remote))
	if b.Protocols&ProtocolSet(model.TCP, model.UDP) != 0 {
		s += fmt.Sprintf(" (remote ports %s, local ports %s)", b.RemotePorts, b.LocalPorts)
	}
	return s
}

// verdictLine is "Deny by defaultSecurityRules/DenyAllInBound (priority 65500, Deny) in NSG …".
func verdictLine(d Decision) string {
	return d.Access.String() + " by " + d.RuleLine()
}

// WriteText writes the changes for a reviewer: per NIC and direction, each changed box with the
// decision before and after.
func (r *DiffResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if !r.Changed() {
		fmt.Fprintf(&b, "No change: every flow of every NIC has the same verdict and deciding rule (%d NIC directions analysed, %d unchanged and skipped).\n", r.Analysed, r.Unchanged)
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, n := range r.Changes {
		fmt.Fprintf(&b, "%s, %s: %d change(s)\n", targetName(n.After), strings.ToLower(n.Direction.String()), len(n.Changes))
		for _, c := range n.Changes {
			fmt.Fprintf(&b, "  %s\n", flowLine(c.Box, n.Direction))
			fmt.Fprintf(&b, "    before: %s\n", verdictLine(c.Before))
			fmt.Fprintf(&b, "    after:  %s\n", verdictLine(c.After))
		}
		b.WriteString("\n")
	}
	for _, k := range r.Added {
		fmt.Fprintf(&b, "Added: %s (only in the new estate)\n", model.Printable(k))
	}
	for _, k := range r.Removed {
		fmt.Fprintf(&b, "Removed: %s (only in the old estate)\n", model.Printable(k))
	}
	fmt.Fprintf(&b, "%d NIC direction(s) changed, %d added, %d removed; %d analysed, %d unchanged and skipped.\n",
		len(r.Changes), len(r.Added), len(r.Removed), r.Analysed, r.Unchanged)
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonDecision struct {
	Access    string `json:"access"`
	Rule      string `json:"rule"`
	NSG       string `json:"nsg,omitempty"`
	AppliedTo string `json:"appliedTo,omitempty"`
}

func decisionJSON(d Decision) jsonDecision {
	j := jsonDecision{Access: d.Access.String()}
	if d.Rule != nil {
		j.Rule, j.AppliedTo = d.Rule.ID(), d.Layer.AppliedTo
		if d.Layer.NSG != nil {
			j.NSG = d.Layer.NSG.Name
		}
	}
	return j
}

// MarshalJSON lists every change with all its prefixes, and the added and removed NICs.
func (r *DiffResult) MarshalJSON() ([]byte, error) {
	type change struct {
		Protocols   []string     `json:"protocols"`
		Prefixes    []string     `json:"prefixes"`
		RemotePorts string       `json:"remotePorts"`
		LocalPorts  string       `json:"localPorts"`
		Before      jsonDecision `json:"before"`
		After       jsonDecision `json:"after"`
	}
	type nic struct {
		VM              string   `json:"vm"`
		NIC             string   `json:"nic"`
		IPConfiguration string   `json:"ipConfiguration"`
		Direction       string   `json:"direction"`
		Changes         []change `json:"changes"`
	}
	out := struct {
		Changed   bool     `json:"changed"`
		NICs      []nic    `json:"nics"`
		Added     []string `json:"added"`
		Removed   []string `json:"removed"`
		Analysed  int      `json:"analysed"`
		Unchanged int      `json:"unchanged"`
	}{Changed: r.Changed(), NICs: []nic{}, Added: nonNil(r.Added), Removed: nonNil(r.Removed), Analysed: r.Analysed, Unchanged: r.Unchanged}
	for _, n := range r.Changes {
		c := n.After.IPConfig()
		j := nic{VM: c.NIC.VM.Name, NIC: c.NIC.Name, IPConfiguration: c.Name, Direction: n.Direction.String()}
		for _, ch := range n.Changes {
			var ps []string
			for _, p := range ch.Protocols.List() {
				ps = append(ps, p.FlowString())
			}
			j.Changes = append(j.Changes, change{Protocols: ps, Prefixes: prefixStrings(ch.Remote), RemotePorts: ch.RemotePorts.String(),
				LocalPorts: ch.LocalPorts.String(), Before: decisionJSON(ch.Before), After: decisionJSON(ch.After)})
		}
		out.NICs = append(out.NICs, j)
	}
	return json.Marshal(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
