package importer

import (
	"strings"
)

// kind is what a top-level JSON object is.
type kind uint8

const (
	kUnknown      kind = iota
	kOtherType         // an Azure resource of a type ipflow does not use (disks, public IPs, ...)
	kVNet              // az network vnet list/show
	kSubnet            // az network vnet subnet list/show
	kPeering           // az network vnet peering list/show
	kNSG               // az network nsg list/show
	kRule              // az network nsg rule list/show
	kDefaultRule       // a default security rule (never imported: ipflow adds them)
	kNIC               // az network nic list/show
	kVM                // az vm list -d / show -d / get-instance-view
	kInstanceView      // a bare VM instance view (REST .../instanceView)
	kASG               // az network asg list/show
	kRouteTable        // az network route-table list/show
	kRoute             // az network route-table route list/show
	kAdminRule         // an Azure Virtual Network Manager security admin rule
)

var kindNames = [...]string{
	kUnknown:      "unknown",
	kOtherType:    "other Azure resource",
	kVNet:         "virtual network",
	kSubnet:       "subnet",
	kPeering:      "VNet peering",
	kNSG:          "network security group",
	kRule:         "security rule",
	kDefaultRule:  "default security rule",
	kNIC:          "network interface",
	kVM:           "virtual machine",
	kInstanceView: "VM instance view",
	kASG:          "application security group",
	kRouteTable:   "route table",
	kRoute:        "route",
	kAdminRule:    "security admin rule",
}

func (k kind) String() string { return kindNames[k] }

var typeKinds = map[string]kind{
	"microsoft.network/virtualnetworks":                                                   kVNet,
	"microsoft.network/virtualnetworks/subnets":                                           kSubnet,
	"microsoft.network/virtualnetworks/virtualnetworkpeerings":                            kPeering,
	"microsoft.network/networksecuritygroups":                                             kNSG,
	"microsoft.network/networksecuritygroups/securityrules":                               kRule,
	"microsoft.network/networksecuritygroups/defaultsecurityrules":                        kDefaultRule,
	"microsoft.network/networkinterfaces":                                                 kNIC,
	"microsoft.compute/virtualmachines":                                                   kVM,
	"microsoft.network/applicationsecuritygroups":                                         kASG,
	"microsoft.network/routetables":                                                       kRouteTable,
	"microsoft.network/routetables/routes":                                                kRoute,
	"microsoft.network/networkmanagers/securityadminconfigurations/rulecollections/rules": kAdminRule,
}

// resID is a parsed Azure resource ID:
// /subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}]...
type resID struct {
	sub, rg string
	typ     string   // namespace and types, lower case: microsoft.network/virtualnetworks/subnets
	names   []string // the name of each level: [vnet, subnet]
}

func parseID(id string) (resID, bool) {
	seg := strings.Split(strings.TrimSpace(id), "/")
	// "", "subscriptions", sub, "resourceGroups", rg, "providers", ns, type, name, ...
	if len(seg) < 9 || seg[0] != "" || !strings.EqualFold(seg[1], "subscriptions") ||
		!strings.EqualFold(seg[3], "resourcegroups") || !strings.EqualFold(seg[5], "providers") {
		return resID{}, false
	}
	rest := seg[7:]
	if len(rest)%2 != 0 {
		return resID{}, false
	}
	var typ strings.Builder
	typ.WriteString(strings.ToLower(seg[6]))
	names := make([]string, 0, len(rest)/2)
	for i := 0; i < len(rest); i += 2 {
		if rest[i] == "" || rest[i+1] == "" {
			return resID{}, false
		}
		typ.WriteByte('/')
		typ.WriteString(strings.ToLower(rest[i]))
		names = append(names, rest[i+1])
	}
	return resID{sub: seg[2], rg: seg[4], typ: typ.String(), names: names}, true
}

// last is the resource's own name.
func (r resID) last() string {
	if len(r.names) == 0 {
		return ""
	}
	return r.names[len(r.names)-1]
}

// parentKey is the normalised ID of the resource's parent (a subnet's VNet, a rule's NSG).
func parentKey(id string) string {
	id = strings.TrimRight(strings.TrimSpace(id), "/")
	i := strings.LastIndexByte(id, '/')
	if i <= 0 {
		return ""
	}
	j := strings.LastIndexByte(id[:i], '/')
	if j <= 0 {
		return ""
	}
	return idKey(id[:j])
}

// idKey normalises a resource ID for lookups: Azure resource IDs are case-insensitive (compute
// resources often come back with the resource group in upper case).
func idKey(id string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(id), "/"))
}

// defaultRuleNames are the names of Azure's default rules, current and legacy (Network Watcher's
// security group view still says DefaultInboundDenyAll/DefaultOutboundDenyAll), in lower case.
var defaultRuleNames = map[string]bool{
	"allowvnetinbound":              true,
	"allowazureloadbalancerinbound": true,
	"denyallinbound":                true,
	"allowvnetoutbound":             true,
	"allowinternetoutbound":         true,
	"denyalloutbound":               true,
	"defaultinbounddenyall":         true,
	"defaultoutbounddenyall":        true,
}

// isDefaultRule reports whether a rule found among custom rules is one of Azure's defaults.
func isDefaultRule(name, id string, prio flexInt) bool {
	if strings.Contains(strings.ToLower(id), "/defaultsecurityrules/") {
		return true
	}
	return prio.Set && prio.V >= 65000 && defaultRuleNames[strings.ToLower(name)]
}

// classify says what a decoded top-level object is: from its type, else from its ID, else from
// its shape. For objects it does not know, hint says what they look like, when it can tell.
func classify(r *resource) (kind, string) {
	t := strings.ToLower(strings.TrimSpace(r.Type))
	if t == "" {
		if id, ok := parseID(r.ID); ok {
			t = id.typ
		}
	}
	if t != "" {
		if k, ok := typeKinds[t]; ok {
			if k == kRule && isDefaultRule(r.Name, r.ID, r.Priority) {
				return kDefaultRule, ""
			}
			return k, ""
		}
		if strings.Contains(t, "/") {
			return kOtherType, r.Type
		}
	}
	switch {
	case r.IPConfigurations != nil:
		return kNIC, ""
	case r.SecurityRules != nil || bool(r.DefaultSecurityRules):
		return kNSG, ""
	case r.AddressSpace != nil:
		return kVNet, ""
	case r.NetworkProfile != nil || r.PowerState != "" || r.InstanceView != nil:
		return kVM, ""
	case r.Routes != nil:
		return kRouteTable, ""
	case hasPowerState(r.Statuses):
		return kInstanceView, ""
	case r.hasRuleShape():
		if isDefaultRule(r.Name, r.ID, r.Priority) {
			return kDefaultRule, ""
		}
		return kRule, ""
	}
	switch {
	case r.Results != nil:
		return kUnknown, "Network Watcher NSG diagnostics output (az network watcher run-configuration-diagnostic)"
	case r.RuleName != "" && r.Access != "":
		return kUnknown, "an IP flow verify result (az network watcher test-ip-flow)"
	case r.EffectiveSecurityRules != nil:
		return kUnknown, "effective security rules (az network nic list-effective-nsg)"
	case strings.Contains(strings.ToLower(r.Schema), "deploymenttemplate"):
		return kUnknown, "an ARM template; export the resources with the az list commands instead"
	}
	for _, n := range r.NetworkInterfaces {
		if n.SecurityRuleAssociations != nil {
			return kUnknown, "a security group view (az network watcher show-security-group-view)"
		}
	}
	return kUnknown, ""
}

func hasPowerState(st []statusRaw) bool {
	for _, s := range st {
		if strings.HasPrefix(strings.ToLower(s.Code), "powerstate/") {
			return true
		}
	}
	return false
}

// parentRef is the ID of the resource's parent, as written (a subnet ID without /subnets/NAME).
func parentRef(id string) string {
	id = strings.TrimRight(strings.TrimSpace(id), "/")
	i := strings.LastIndexByte(id, '/')
	if i <= 0 {
		return id
	}
	j := strings.LastIndexByte(id[:i], '/')
	if j <= 0 {
		return id
	}
	return id[:j]
}
