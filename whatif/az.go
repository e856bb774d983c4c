package whatif

import (
	"strconv"
	"strings"

	"ipflow/model"
)

// Placeholders in az commands for what a fixture does not say.
const (
	PlaceholderResourceGroup = "<resource-group>"
	placeholderManager       = "<network-manager>"
	placeholderConfig        = "<security-admin-configuration>"
	placeholderCollection    = "<rule-collection>"
)

// AzCommands are the Azure CLI commands that make the changes in Azure, in order. The
// resource group is the NSG's (or admin rule's) resource_group from env, a placeholder when
// the fixture does not say; so are a network manager's names, which fixtures never hold.
func AzCommands(env *model.Environment, changes []Change) []string {
	out := make([]string, 0, len(changes))
	for i := range changes {
		out = append(out, azCommand(env, &changes[i]))
	}
	return out
}

func azCommand(env *model.Environment, c *Change) string {
	if c.IsAdmin() {
		return azAdmin(env, c)
	}
	rg := PlaceholderResourceGroup
	for _, g := range env.NSGs {
		if g.Name == c.NSG && g.ResourceGroup != "" {
			rg = g.ResourceGroup
		}
	}
	args := []string{"az", "network", "nsg", "rule"}
	switch c.Op {
	case Add:
		args = append(args, "create")
	case Replace:
		args = append(args, "update")
	default:
		args = append(args, "delete")
	}
	args = append(args, "--resource-group", rg, "--nsg-name", c.NSG, "--name", c.Name)
	if c.Op != Remove {
		r := c.Rule
		args = append(args, "--priority", strconv.Itoa(r.Priority), "--direction", r.Direction.String(),
			"--access", r.Access.String(), "--protocol", r.Protocol.String())
		args = append(args, sideArgs("source", r.Source)...)
		args = append(args, sideArgs("destination", r.Destination)...)
		if r.Description != "" || c.Op == Replace {
			args = append(args, "--description", r.Description)
		}
	}
	return shellJoin(args)
}

// sideArgs are one side's flags: address prefixes (or ASGs) and port ranges. An update sets
// both flags of a side, the ASGs empty when it takes addresses, so no old value lingers.
func sideArgs(side string, s model.Side) []string {
	var out []string
	if len(s.ASGs) > 0 {
		out = append(out, "--"+side+"-asgs")
		for _, a := range s.ASGs {
			out = append(out, a.Name)
		}
	} else {
		out = append(out, "--"+side+"-address-prefixes")
		out = append(out, addressStrings(s.Addresses)...)
	}
	out = append(out, "--"+side+"-port-ranges")
	return append(out, portStrings(s.Ports)...)
}

func azAdmin(env *model.Environment, c *Change) string {
	rg := PlaceholderResourceGroup
	for _, a := range env.AdminRules {
		if a.Name == c.Name && a.ResourceGroup != "" {
			rg = a.ResourceGroup
		}
	}
	if c.Admin != nil && c.Admin.ResourceGroup != "" {
		rg = c.Admin.ResourceGroup
	}
	args := []string{"az", "network", "manager", "security-admin-config", "rule-collection", "rule"}
	switch c.Op {
	case Add:
		args = append(args, "create")
	case Replace:
		args = append(args, "update")
	default:
		args = append(args, "delete")
	}
	args = append(args, "--resource-group", rg, "--network-manager-name", placeholderManager,
		"--configuration-name", placeholderConfig, "--rule-collection-name", placeholderCollection, "--rule-name", c.Name)
	if c.Op == Remove {
		return shellJoin(append(args, "--yes"))
	}
	r := &c.Admin.Rule
	args = append(args, "--kind", "Custom", "--priority", strconv.Itoa(r.Priority), "--direction", r.Direction.String(),
		"--access", r.Access.String(), "--protocol", azAdminProtocol(r.Protocol))
	args = append(args, adminSide("--sources", r.Source.Addresses)...)
	args = append(args, adminSide("--destinations", r.Destination.Addresses)...)
	args = append(args, "--source-port-ranges")
	args = append(args, portStrings(r.Source.Ports)...)
	args = append(args, "--dest-port-ranges")
	args = append(args, portStrings(r.Destination.Ports)...)
	return shellJoin(args)
}

// azAdminProtocol: admin rules say Any where NSG rules say *.
func azAdminProtocol(p model.Protocol) string {
	if p == model.AnyProtocol {
		return "Any"
	}
	return p.String()
}

func adminSide(flag string, as []model.Address) []string {
	out := []string{flag}
	for _, a := range as {
		typ := "IPPrefix"
		if a.Kind == model.TagAddress {
			typ = "ServiceTag"
		}
		out = append(out, "address-prefix="+a.String(), "address-prefix-type="+typ)
	}
	return out
}

// shellJoin quotes each argument for a POSIX shell when it needs it; names from fixtures are
// made printable too, since the commands are shown on terminals.
func shellJoin(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = shellQuote(model.Printable(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
