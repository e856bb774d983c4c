package suggest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"

	"ipflow/analysis"
	"ipflow/model"
	"ipflow/whatif"
)

// verb is what a change does to a box of flows: opens, closes, or keeps the verdict with
// another deciding rule (re-decides).
func verb(c analysis.Change) string {
	switch {
	case c.Before.Access == model.Deny && c.After.Access != model.Deny:
		return "opens"
	case c.Before.Access != model.Deny && c.After.Access == model.Deny:
		return "closes"
	}
	return "re-decides"
}

// boxLine is "UDP from 13.107.21.200/32 (remote ports *, local ports 123)".
func boxLine(c analysis.Change, d model.Direction) string {
	prep := "from"
	if d == model.Outbound {
		prep = "to"
	}
	remote := c.Remote.String()
	if ps := c.Remote.Prefixes(); len(ps) > 6 {
		parts := make([]string, 4)
		for i := range parts {
			parts[i] = ps[i].String()
		}
		remote = fmt.Sprintf("%s … (%d prefixes in all)", strings.Join(parts, ", "), len(ps))
	}
	s := fmt.Sprintf("%s %s %s", c.Protocols, prep, remote)
	if c.Protocols&analysis.ProtocolSet(model.TCP, model.UDP) != 0 {
		s += fmt.Sprintf(" (remote ports %s, local ports %s)", c.RemotePorts, c.LocalPorts)
	}
	return s
}

// flows is a count with thousands separators.
func flows(n *big.Int) string {
	s := n.String()
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if s == "1" {
		return "1 flow"
	}
	return b.String() + " flows"
}

// maxBoxesShown is how many boxes of a blast radius the text lists: a broad change on a large
// estate opens thousands, which the count says and -o json lists.
const maxBoxesShown = 20

// WriteText writes the suggestions for a person, after the verdict: each with its changes, the
// flow's verdict then, its blast radius (the first maxBoxesShown boxes), the change set and the
// az commands.
func (r *Result) WriteText(w io.Writer, env *model.Environment) error {
	var b strings.Builder
	want := "allow"
	if r.Want == model.Deny {
		want = "deny"
	}
	b.WriteString("\n")
	switch len(r.Suggestions) {
	case 0:
		fmt.Fprintf(&b, "Suggestions: none found to %s this flow.\n", want)
	case 1:
		fmt.Fprintf(&b, "Suggestions: 1 way to %s this flow\n", want)
	default:
		fmt.Fprintf(&b, "Suggestions: %d ways to %s this flow, smallest first\n", len(r.Suggestions), want)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	for i, s := range r.Suggestions {
		fmt.Fprintf(&b, "\n%d. %s: %s\n", i+1, s.Kind, s.Summary)
		if s.Admin {
			fmt.Fprintf(&b, "   ADMIN RULE CHANGE: %s; this changes the network manager's admin rules.\n", s.AdminWhy)
		}
		fmt.Fprintf(&b, "   Then: %s by %s\n", s.Verdict.Access, analysis.Decision{Access: s.Verdict.Access, Rule: s.Verdict.Rule, Layer: s.Verdict.Layer}.RuleLine())
		boxes := 0
		for _, n := range s.Blast {
			boxes += len(n.Changes)
		}
		fmt.Fprintf(&b, "   Blast radius: %s in %d box(es) on %d NIC direction(s)\n", flows(s.Flows), boxes, len(s.Blast))
		shown := 0
		for _, n := range s.Blast {
			for _, c := range n.Changes {
				if shown == maxBoxesShown {
					break
				}
				fmt.Fprintf(&b, "     %s %s on %s, %s\n", verb(c), boxLine(c, n.Direction), analysis.Name(n.After), strings.ToLower(n.Direction.String()))
				shown++
			}
		}
		if shown < boxes {
			fmt.Fprintf(&b, "     … and %d more box(es): -o json lists every one, and diff --what-if with the change set shows them by NIC\n", boxes-shown)
		}
		b.WriteString("   Change set (for --what-if):\n")
		for _, line := range strings.Split(strings.TrimRight(whatif.Format(s.Changes), "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
				continue
			}
			fmt.Fprintf(&b, "     %s\n", model.Printable(line))
		}
		b.WriteString("   Azure CLI:\n")
		for _, c := range whatif.AzCommands(env, s.Changes) {
			fmt.Fprintf(&b, "     %s\n", c)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonSuggestion struct {
	Summary       string      `json:"summary"`
	Kind          Kind        `json:"kind"`
	Admin         bool        `json:"admin,omitempty"`
	AdminWhy      string      `json:"adminWhy,omitempty"`
	Changes       string      `json:"changes"`
	Az            []string    `json:"az"`
	Verdict       string      `json:"verdict"`
	BlastRadius   []jsonBlast `json:"blastRadius"`
	FlowsAffected *big.Int    `json:"flowsAffected"`
}

type jsonBlast struct {
	VM          string       `json:"vm"`
	NIC         string       `json:"nic"`
	IPConfig    string       `json:"ipConfiguration"`
	Direction   string       `json:"direction"`
	Protocol    []string     `json:"protocol"`
	Remote      []string     `json:"remote"`
	RemotePorts string       `json:"remotePorts"`
	LocalPorts  string       `json:"localPorts"`
	From        jsonDecision `json:"from"`
	To          jsonDecision `json:"to"`
}

type jsonDecision struct {
	Access    string `json:"access"`
	Rule      string `json:"rule,omitempty"`
	NSG       string `json:"nsg,omitempty"`
	AppliedTo string `json:"appliedTo,omitempty"`
}

func decision(d analysis.Decision) jsonDecision {
	j := jsonDecision{Access: d.Access.String()}
	if d.Rule != nil {
		j.Rule, j.AppliedTo = d.Rule.ID(), d.Layer.AppliedTo
		if d.Layer.NSG != nil {
			j.NSG = d.Layer.NSG.Name
		}
	}
	return j
}

// JSON is the suggestions as the JSON array of verify --suggest -o json.
func (r *Result) JSON(env *model.Environment) ([]byte, error) {
	out := make([]jsonSuggestion, 0, len(r.Suggestions))
	for _, s := range r.Suggestions {
		j := jsonSuggestion{Summary: s.Summary, Kind: s.Kind, Admin: s.Admin, AdminWhy: s.AdminWhy, Changes: whatif.Format(s.Changes),
			Az: whatif.AzCommands(env, s.Changes), Verdict: s.Verdict.Access.String(), BlastRadius: []jsonBlast{}, FlowsAffected: s.Flows}
		for _, n := range s.Blast {
			c := n.After.IPConfig()
			for _, ch := range n.Changes {
				var protos []string
				for _, p := range ch.Protocols.List() {
					protos = append(protos, p.FlowString())
				}
				var remote []string
				for _, p := range ch.Remote.Prefixes() {
					remote = append(remote, p.String())
				}
				j.BlastRadius = append(j.BlastRadius, jsonBlast{VM: c.NIC.VM.Name, NIC: c.NIC.Name, IPConfig: c.Name, Direction: n.Direction.String(),
					Protocol: protos, Remote: remote, RemotePorts: ch.RemotePorts.String(), LocalPorts: ch.LocalPorts.String(),
					From: decision(ch.Before), To: decision(ch.After)})
			}
		}
		out = append(out, j)
	}
	return json.Marshal(out)
}
