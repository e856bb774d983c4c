package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"ipflow/engine"
	"ipflow/model"
	"ipflow/tui/effective"
)

// runRules prints a NIC's effective security rules, as Azure's "effective security rules"
// view: per direction the admin rules, then the NSGs in evaluation order, every rule with its
// tags and ASGs expanded to prefixes for that NIC.
func runRules(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("rules")
	var paths pathList
	var vmName, nicName, direction, output string
	var wi whatIfFlag
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	wi.register(fs)
	fs.StringVar(&vmName, "vm", "", "VM name")
	fs.StringVar(&nicName, "nic", "", "NIC name (optional: default the VM's primary NIC)")
	fs.StringVar(&direction, "direction", "", "inbound or outbound (optional: both)")
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&output, "output", "text", "output: text or json")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output = strings.ToLower(output)
	var problems []string
	if output != "text" && output != "json" {
		problems = append(problems, "-o "+quote(output)+": must be text or json")
	}
	if vmName == "" {
		problems = append(problems, "--vm is required")
	}
	var dirs []model.Direction
	if direction != "" {
		d, err := model.ParseDirection(direction)
		if err != nil {
			problems = append(problems, "--direction "+quote(direction)+": must be inbound or outbound")
		}
		dirs = append(dirs, d)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "ipflow rules: %s\n", strings.Join(problems, "; "))
		return 2
	}
	// One VM's rules: compile that VM alone, unless a what-if needs the whole.
	var only []string
	if len(wi.files) == 0 {
		only = []string{vmName}
	}
	eng, code := c.estateFor("rules", paths, only)
	if eng == nil {
		return code
	}
	eng, set, code := wi.apply(c, "rules", eng)
	if eng == nil {
		return code
	}
	nic, err := findNIC(eng, vmName, nicName)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow rules: %v\n", err)
		return 2
	}
	eff, err := effective.ForNIC(eng, nic, nil, dirs...)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow rules: %v\n", err)
		return 2
	}
	if eff.IPConfig == nil {
		fmt.Fprintf(stderr, "ipflow rules: NIC %s has no IP configuration\n", quote(nic.Name))
		return 2
	}
	stdout = whatIfOutput(c, set, output)
	if output == "json" {
		data, err := json.MarshalIndent(rulesJSON(eff), "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "ipflow rules: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", model.EscapeJSON(data))
		return 0
	}
	writeRulesText(stdout, eff)
	return 0
}

// findNIC finds a VM's NIC by name, or its primary NIC, with errors that list what exists.
func findNIC(eng *engine.Engine, vmName, nicName string) (*model.NIC, error) {
	env := eng.Environment()
	var names []string
	for _, vm := range env.VMs {
		names = append(names, vm.Name)
		if vm.Name != vmName {
			continue
		}
		if nicName == "" {
			if n := vm.PrimaryNIC(); n != nil {
				return n, nil
			}
			return nil, fmt.Errorf("VM %s has no NIC", quote(vmName))
		}
		var nics []string
		for _, n := range vm.NICs {
			if n.Name == nicName {
				return n, nil
			}
			nics = append(nics, model.Printable(n.Name))
		}
		return nil, fmt.Errorf("VM %s has no NIC %s; its NICs: %s", quote(vmName), quote(nicName), strings.Join(nics, ", "))
	}
	msg := fmt.Sprintf("unknown VM %s", quote(vmName))
	if s := model.Suggest(vmName, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", quote(s))
	}
	return nil, fmt.Errorf("%s", msg)
}

type jsonEffective struct {
	VM         string          `json:"vm"`
	NIC        string          `json:"nic"`
	IPConfig   string          `json:"ipConfiguration"`
	PrivateIP  string          `json:"privateIp"`
	Subnet     string          `json:"subnet"`
	Directions []jsonDirection `json:"directions"`
}

type jsonDirection struct {
	Direction string          `json:"direction"`
	Layers    []jsonRuleLayer `json:"layers"`
}

type jsonRuleLayer struct {
	Kind      string        `json:"kind"` // admin, subnet, nic
	Label     string        `json:"label"`
	NSG       string        `json:"nsg,omitempty"`
	AppliedTo string        `json:"appliedTo"`
	Rules     []jsonEffRule `json:"rules"`
}

type jsonEffRule struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Priority            int      `json:"priority"`
	Access              string   `json:"access"`
	Protocol            string   `json:"protocol"`
	Source              []string `json:"source"`
	SourcePorts         string   `json:"sourcePorts"`
	Destination         []string `json:"destination"`
	DestinationPorts    string   `json:"destinationPorts"`
	ExpandedSource      []string `json:"expandedSource"`
	ExpandedDestination []string `json:"expandedDestination"`
	Description         string   `json:"description,omitempty"`
	Position            string   `json:"position,omitempty"`
}

var layerKinds = map[engine.LayerKind]string{engine.AdminLayer: "admin", engine.SubnetLayer: "subnet", engine.NICLayer: "nic"}

func rulesJSON(eff *effective.NIC) jsonEffective {
	out := jsonEffective{VM: eff.VM.Name, NIC: eff.NIC.Name, IPConfig: eff.IPConfig.Name,
		PrivateIP: eff.IPConfig.PrivateIP.String(), Subnet: eff.IPConfig.Subnet.Path()}
	for _, d := range eff.Directions {
		jd := jsonDirection{Direction: d.Direction.String(), Layers: []jsonRuleLayer{}}
		for _, l := range d.Layers {
			jl := jsonRuleLayer{Kind: layerKinds[l.Kind], Label: l.Label(), AppliedTo: l.AppliedTo, Rules: []jsonEffRule{}}
			if l.NSG != nil {
				jl.NSG = l.NSG.Name
			}
			for _, r := range l.Rules {
				jl.Rules = append(jl.Rules, jsonEffRule{
					ID: r.ID(), Name: r.Name, Priority: r.Priority, Access: r.Access.String(), Protocol: r.Protocol.String(),
					Source: sideItems(r.Source), SourcePorts: ports(r.Source.Ports),
					Destination: sideItems(r.Destination), DestinationPorts: ports(r.Destination.Ports),
					ExpandedSource: prefixes(r.ExpandedSource), ExpandedDestination: prefixes(r.ExpandedDestination),
					Description: r.Description, Position: r.Pos.String(),
				})
			}
			jd.Layers = append(jd.Layers, jl)
		}
		out.Directions = append(out.Directions, jd)
	}
	return out
}

// sideItems is a rule side as written: addresses, tags, or "asg:NAME".
func sideItems(s model.Side) []string {
	out := []string{}
	for _, a := range s.ASGs {
		out = append(out, "asg:"+a.Name)
	}
	for _, a := range s.Addresses {
		out = append(out, a.String())
	}
	return out
}

func ports(ps []model.PortRange) string {
	if p := model.FormatPorts(ps); p != "" {
		return p
	}
	return "*"
}

// prefixes lists an expanded side's prefixes.
func prefixes(items []effective.Item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Prefix.String())
	}
	return out
}

// writeRulesText writes the effective rules for people: every layer's rules in evaluation
// order, and under each rule with a tag or an ASG what it holds for this NIC and why.
func writeRulesText(w io.Writer, eff *effective.NIC) {
	var b strings.Builder
	p := model.Printable
	fmt.Fprintf(&b, "Effective security rules of %s / %s (%s %s, subnet %s)\n", p(eff.VM.Name), p(eff.NIC.Name),
		p(eff.IPConfig.Name), eff.IPConfig.PrivateIP, p(eff.IPConfig.Subnet.Path()))
	for _, d := range eff.Directions {
		fmt.Fprintf(&b, "\n%s, in evaluation order\n", d.Direction)
		for i, l := range d.Layers {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, l.Label())
			if l.Kind != engine.AdminLayer && l.NSG == nil {
				b.WriteString("       no NSG is associated, so this level allows\n")
				continue
			}
			if len(l.Rules) == 0 {
				fmt.Fprintf(&b, "       no %s rules\n", strings.ToLower(d.Direction.String()))
			}
			nameW := 4
			for _, r := range l.Rules {
				nameW = max(nameW, len(p(r.Name)))
			}
			for _, r := range l.Rules {
				fmt.Fprintf(&b, "     %5d  %-*s  %-11s  %-4s  %s → %s\n", r.Priority, nameW, p(r.Name), r.Access, r.Protocol,
					sideText(r.Source), sideText(r.Destination))
				for _, side := range []struct {
					name  string
					s     model.Side
					items []effective.Item
					empty string
				}{{"source", r.Source, r.ExpandedSource, r.EmptySource}, {"destination", r.Destination, r.ExpandedDestination, r.EmptyDestination}} {
					if !expands(side.s) {
						continue
					}
					fmt.Fprintf(&b, "            %s = %s\n", side.name, itemsText(side.items, side.empty))
				}
			}
		}
	}
	io.WriteString(w, b.String())
}

// expands reports whether a side has a tag or an ASG (whose prefixes are worth printing).
func expands(s model.Side) bool {
	if len(s.ASGs) > 0 {
		return true
	}
	for _, a := range s.Addresses {
		if a.Kind == model.TagAddress {
			return true
		}
	}
	return false
}

func sideText(s model.Side) string {
	return strings.Join(sideItemsPrintable(s), ",") + ":" + ports(s.Ports)
}

func sideItemsPrintable(s model.Side) []string {
	items := sideItems(s)
	for i := range items {
		items[i] = model.Printable(items[i])
	}
	return items
}

// itemsText groups an expanded side by origin: "VirtualNetwork: VNet hub 10.0.0.0/16;
// VirtualNetwork: peered VNet spoke-app 10.1.0.0/16". Internet is named, not listed (it is
// every public address outside VirtualNetwork: dozens of prefixes, which -o json lists). An
// empty side says why (empty).
func itemsText(items []effective.Item, empty string) string {
	if len(items) == 0 {
		return "nothing: " + model.Printable(empty)
	}
	var parts []string
	for i := 0; i < len(items); {
		j := i
		var ps []string
		for ; j < len(items) && items[j].From == items[i].From; j++ {
			ps = append(ps, items[j].Prefix.String())
		}
		from := model.Printable(items[i].From)
		switch {
		case strings.HasPrefix(from, "Internet:"):
			parts = append(parts, fmt.Sprintf("%s (%d prefixes; -o json lists them)", from, len(ps)))
		case from == "":
			parts = append(parts, strings.Join(ps, ", "))
		default:
			parts = append(parts, from+" "+strings.Join(ps, ", "))
		}
		i = j
	}
	return strings.Join(parts, "; ")
}
