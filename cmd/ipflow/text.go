package main

import (
	"fmt"
	"io"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// writeText prints a verdict for people: the answer first, in the portal's words, then the chain.
func writeText(w io.Writer, r *engine.Result) {
	fmt.Fprint(w, r.Summary())
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Evaluation")
	for i, l := range r.Layers {
		fmt.Fprintf(w, "  %d. %s\n", i+1, layerTitle(&l, r.Flow.Direction))
		if l.Status != engine.Evaluated {
			continue
		}
		nameW, accessW := 4, 4
		for _, r := range l.Rules()[:len(l.Tried)] {
			nameW = max(nameW, len(model.Printable(r.Name)))
			accessW = max(accessW, len(r.Access.String()))
		}
		for i := range l.Tried {
			c := l.Check(i)
			mark := "✗"
			if c.Fields.All() {
				mark = "✓"
			}
			fmt.Fprintf(w, "     %s %5d  %-*s  %-*s  %s\n", mark, c.Rule.Priority, nameW, model.Printable(c.Rule.Name), accessW, c.Rule.Access, r.Reason(c))
		}
		if rest := len(l.Rules()) - len(l.Tried); rest > 0 {
			fmt.Fprintf(w, "     … %d later rule(s) not evaluated\n", rest)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Notes")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

// layerTitle is "NSG web-subnet-nsg on subnet/hub/web: denied by DenyAllInBound".
func layerTitle(l *engine.LayerTrace, d model.Direction) string {
	var b strings.Builder
	if l.Kind == engine.AdminLayer {
		fmt.Fprintf(&b, "Security admin rules on %s", model.Printable(l.AppliedTo))
	} else if l.NSG != nil {
		fmt.Fprintf(&b, "NSG %s on %s", model.Printable(l.NSG.Name), model.Printable(l.AppliedTo))
	} else {
		fmt.Fprintf(&b, "No NSG on %s", model.Printable(l.AppliedTo))
	}
	switch {
	case l.Status != engine.Evaluated:
		b.WriteString(": " + l.Reason)
	case len(l.Rules()) == 0:
		fmt.Fprintf(&b, ": no %s rules", strings.ToLower(d.String()))
		if l.Kind == engine.AdminLayer {
			b.WriteString(", so the NSGs decide")
		}
	case l.Matched() == nil:
		b.WriteString(": no rule matched")
		if l.Kind == engine.AdminLayer {
			b.WriteString(", so the NSGs decide")
		}
	default:
		m := l.Matched()
		verb := map[model.Access]string{model.Allow: "allowed", model.Deny: "denied", model.AlwaysAllow: "always allowed"}[m.Access]
		fmt.Fprintf(&b, ": %s by %s", verb, model.Printable(m.ID()))
	}
	return b.String()
}
