package engine

import (
	"fmt"
	"io"
	"strings"

	"ipflow/model"
)

// This file holds the one wording of a verdict and its trace for people: the CLI prints
// WriteText, the TUI and other front ends reuse Headline, RuleLine, Target and Title.

// Headline is the verdict in the words Azure's portal uses: "Access allowed" or "Access denied".
func (v Verdict) Headline() string {
	if v.Access == model.Deny {
		return "Access denied"
	}
	return "Access allowed"
}

// Label names the layer: "NSG web-nsg on subnet/hub/web", "Security admin rules on
// virtualNetwork/hub" or "No NSG on networkInterface/web-01-nic". Names are printable.
func (l *Layer) Label() string {
	switch {
	case l.Kind == AdminLayer:
		return "Security admin rules on " + model.Printable(l.AppliedTo)
	case l.NSG != nil:
		return "NSG " + model.Printable(l.NSG.Name) + " on " + model.Printable(l.AppliedTo)
	}
	return "No NSG on " + model.Printable(l.AppliedTo)
}

// Title is the layer's label and what happened in it: "NSG web-subnet-nsg on subnet/hub/web:
// denied by defaultSecurityRules/DenyAllInBound".
func (l *LayerTrace) Title() string {
	var b strings.Builder
	b.WriteString(l.Label())
	switch {
	case l.Status != Evaluated:
		b.WriteString(": " + l.Reason)
	case len(l.Rules()) == 0:
		fmt.Fprintf(&b, ": no %s rules", strings.ToLower(l.Direction.String()))
		if l.Kind == AdminLayer {
			b.WriteString(", so the NSGs decide")
		}
	case l.Matched() == nil:
		b.WriteString(": no rule matched")
		if l.Kind == AdminLayer {
			b.WriteString(", so the NSGs decide")
		}
	default:
		m := l.Matched()
		fmt.Fprintf(&b, ": %s by %s", accessVerb(m.Access), model.Printable(m.ID()))
	}
	return b.String()
}

func accessVerb(a model.Access) string {
	switch a {
	case model.Deny:
		return "denied"
	case model.AlwaysAllow:
		return "always allowed"
	}
	return "allowed"
}

// RuleLine describes the deciding rule: "securityRules/allow-https (priority 100, Allow)".
func (r *Result) RuleLine() string {
	if r.Rule == nil {
		return "none: no NSG on the subnet or the NIC and no admin rule matched, so every level allows"
	}
	return fmt.Sprintf("%s (priority %d, %s)", model.Printable(r.Rule.ID()), r.Rule.Priority, r.Rule.Access)
}

// Target is "web-01 / web-01-nic (ipconfig1, subnet hub/web)".
func (r *Result) Target() string {
	return fmt.Sprintf("%s / %s (%s, subnet %s)", model.Printable(r.VM.Name), model.Printable(r.NIC.Name),
		model.Printable(r.IPConfig.Name), model.Printable(r.IPConfig.Subnet.Path()))
}

// Summary is the plain-text answer: verdict, rule, NSG and flow, a line each.
func (r *Result) Summary() string {
	var b strings.Builder
	b.WriteString(r.Headline() + "\n")
	fmt.Fprintf(&b, "Rule:  %s\n", r.RuleLine())
	if l := r.Layer; l != nil {
		if l.Kind == AdminLayer {
			fmt.Fprintf(&b, "Layer: security admin rules on %s\n", model.Printable(l.AppliedTo))
		} else {
			fmt.Fprintf(&b, "NSG:   %s on %s\n", model.Printable(l.NSG.Name), model.Printable(l.AppliedTo))
		}
	}
	fmt.Fprintf(&b, "Flow:  %s on %s\n", r.Flow, r.Target())
	return b.String()
}

// WriteText writes the result for people: the answer first, in the portal's words, then every
// layer with every rule tried and why, then the notes.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteString("\nEvaluation\n")
	for i := range r.Layers {
		l := &r.Layers[i]
		fmt.Fprintf(&b, "  %d. %s\n", i+1, l.Title())
		if l.Status != Evaluated {
			continue
		}
		nameW, accessW := 4, 4
		for _, rule := range l.Rules()[:len(l.Tried)] {
			nameW = max(nameW, len(model.Printable(rule.Name)))
			accessW = max(accessW, len(rule.Access.String()))
		}
		for j := range l.Tried {
			c := l.Check(j)
			mark := "✗"
			if c.Fields.All() {
				mark = "✓"
			}
			fmt.Fprintf(&b, "     %s %5d  %-*s  %-*s  %s\n", mark, c.Rule.Priority, nameW, model.Printable(c.Rule.Name), accessW, c.Rule.Access, r.Reason(c))
		}
		if rest := len(l.Rules()) - len(l.Tried); rest > 0 {
			fmt.Fprintf(&b, "     … %d later rule(s) not evaluated\n", rest)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
