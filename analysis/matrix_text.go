package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"ipflow/model"
)

// Mark is the cell's symbol in a grid: ✓ allowed, ✗ denied, ◐ some source ports, · no pair.
func (s CellState) Mark() string {
	return [...]string{"✗", "✓", "◐", "·"}[s]
}

func (s CellState) String() string {
	return [...]string{"denied", "allowed", "partly", "n/a"}[s]
}

// Title is "TCP port 1433: can the row VM reach the column VM?".
func (m *Matrix) Title() string {
	what := m.Query.Protocol.FlowString()
	if m.Query.Protocol.HasPorts() {
		what += fmt.Sprintf(" port %d", m.Query.Port)
	}
	return what + ": can the row VM reach the column VM?"
}

// WriteText writes the grid with numbered columns, the legend, and why each allowed pair is.
func (m *Matrix) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(m.Title() + "\n\n")
	nameW := len("from \\ to")
	for _, v := range m.VMs {
		nameW = max(nameW, len([]rune(model.Printable(v.VM.Name))))
	}
	colW := len(fmt.Sprint(len(m.VMs))) + 1
	fmt.Fprintf(&b, "%*s  %-*s ", colW, "", nameW, "from \\ to")
	for j := range m.VMs {
		fmt.Fprintf(&b, "%*d", colW, j+1)
	}
	b.WriteString("\n")
	for i, v := range m.VMs {
		name := model.Printable(v.VM.Name)
		fmt.Fprintf(&b, "%*d  %s%s ", colW, i+1, name, strings.Repeat(" ", nameW-len([]rune(name))))
		for j := range m.VMs {
			fmt.Fprintf(&b, "%*s", colW, m.Cells[i][j].State.Mark())
		}
		if !v.Ok {
			b.WriteString("   (" + m.why(v) + ")")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n✓ allowed  ✗ denied  ◐ allowed from some source ports only  · same VM or not running\n")
	b.WriteString("A flow is allowed when the source's outbound and the destination's inbound rules both allow it\n")
	b.WriteString("(security rules only: whether a route exists between the VNets is not checked).\n")
	var allowed []string
	for i := range m.VMs {
		for j := range m.VMs {
			c := m.Cells[i][j]
			if c.State != Allowed && c.State != Partly {
				continue
			}
			line := fmt.Sprintf("  %s → %s: out %s; in %s", model.Printable(m.VMs[i].VM.Name), model.Printable(m.VMs[j].VM.Name), ruleShort(c.Out), ruleShort(c.In))
			if c.State == Partly {
				line += fmt.Sprintf(" (source ports %s only)", c.SourcePorts)
			}
			allowed = append(allowed, line)
		}
	}
	if len(allowed) > 0 {
		b.WriteString("\nAllowed\n" + strings.Join(allowed, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (m *Matrix) why(v MatrixVM) string {
	if !v.VM.PowerState.Allocated() {
		return v.VM.PowerState.String()
	}
	return "no address in a subnet"
}

// ruleShort is "securityRules/x (NSG n)" or "no rule".
func ruleShort(d Decision) string {
	if d.Rule == nil {
		return "no NSG, allowed"
	}
	where := "admin rules"
	if d.Layer.NSG != nil {
		where = "NSG " + model.Printable(d.Layer.NSG.Name)
	}
	return fmt.Sprintf("%s (%s)", model.Printable(d.Rule.ID()), where)
}

// MarshalJSON lists the VMs and every cell with the deciding rule on each side.
func (m *Matrix) MarshalJSON() ([]byte, error) {
	type vm struct {
		Name  string `json:"name"`
		NIC   string `json:"nic,omitempty"`
		IP    string `json:"ip,omitempty"`
		State string `json:"state"`
	}
	type cell struct {
		From        string        `json:"from"`
		To          string        `json:"to"`
		Access      string        `json:"access"`
		SourcePorts string        `json:"sourcePorts,omitempty"`
		Outbound    *jsonDecision `json:"outbound,omitempty"`
		Inbound     *jsonDecision `json:"inbound,omitempty"`
	}
	out := struct {
		Protocol string `json:"protocol"`
		Port     *int   `json:"port,omitempty"`
		VMs      []vm   `json:"vms"`
		Cells    []cell `json:"cells"`
	}{Protocol: m.Query.Protocol.FlowString(), VMs: []vm{}, Cells: []cell{}}
	if m.Query.Protocol.HasPorts() {
		p := int(m.Query.Port)
		out.Port = &p
	}
	for _, v := range m.VMs {
		j := vm{Name: v.VM.Name, State: v.VM.PowerState.String()}
		if v.Ok {
			j.NIC, j.IP = v.Target.IPConfig().NIC.Name, v.Target.IPConfig().PrivateIP.String()
		}
		out.VMs = append(out.VMs, j)
	}
	for i, row := range m.Cells {
		for j, c := range row {
			if c.State == NotPaired {
				continue
			}
			jc := cell{From: m.VMs[i].VM.Name, To: m.VMs[j].VM.Name, Access: c.State.String()}
			if m.Query.Protocol.HasPorts() && c.State != Denied {
				jc.SourcePorts = c.SourcePorts.String()
			}
			o, in := decisionJSON(c.Out), decisionJSON(c.In)
			jc.Outbound, jc.Inbound = &o, &in
			out.Cells = append(out.Cells, jc)
		}
	}
	return json.Marshal(out)
}
