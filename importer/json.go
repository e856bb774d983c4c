package importer

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// The JSON shapes below cover both forms Azure prints:
//
//   - the Azure CLI's flattened output, where a resource's fields sit at the top level of its
//     object (privateIpAddress, enableIpForwarding, securityRules, ...), and
//   - the ARM REST shape (az rest, REST API examples, Resource Graph), where they sit under
//     "properties" (privateIPAddress, enableIPForwarding, ...).
//
// encoding/json matches object keys to struct fields case-insensitively, which covers the
// spelling differences (privateIpAddress / privateIPAddress). Each type has a Properties field of
// its own type; flatten() folds it into the top level, so the rest of the importer sees one shape.
// Fields of a type Azure never prints (a number where a string belongs, ...) are ignored: decoding
// is lenient on purpose, because what matters is what can be recognised.

// ref is a reference to another resource: {"id": "..."}.
type ref struct {
	ID string `json:"id"`
}

func refID(r *ref) string {
	if r == nil {
		return ""
	}
	return strings.TrimSpace(r.ID)
}

// addrSpace is {"addressPrefixes": [...]}.
type addrSpace struct {
	AddressPrefixes []string `json:"addressPrefixes"`
}

func (a *addrSpace) prefixes() []string {
	if a == nil {
		return nil
	}
	return a.AddressPrefixes
}

// flexInt accepts a JSON number or a string holding one; anything else leaves it unset.
type flexInt struct {
	V   int
	Set bool
	Bad string // the raw value, when it was present but not an integer
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	if n, err := strconv.Atoi(s); err == nil {
		f.V, f.Set, f.Bad = n, true, ""
		return nil
	}
	if fl, err := strconv.ParseFloat(s, 64); err == nil && fl == float64(int(fl)) && fl > -1e9 && fl < 1e9 {
		f.V, f.Set, f.Bad = int(fl), true, ""
		return nil
	}
	f.Set, f.Bad = false, s
	return nil
}

// present records that a field is there (and not null) without decoding it.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	*p = string(b) != "null"
	return nil
}

// flexBool accepts true/false or the strings "true"/"false".
type flexBool struct {
	V   bool
	Set bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		f.V, f.Set = true, true
	case "false":
		f.V, f.Set = false, true
	}
	return nil
}

func orBool(a, b flexBool) flexBool {
	if a.Set {
		return a
	}
	return b
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orInt(a, b flexInt) flexInt {
	if a.Set || a.Bad != "" {
		return a
	}
	return b
}

func orSlice[T any](a, b []T) []T {
	if a != nil {
		return a
	}
	return b
}

func orPtr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// resource is the union of the top-level objects the importer reads: VNets, subnets, peerings,
// NSGs, security rules, NICs, VMs, ASGs, route tables and routes. Which one an object is comes
// from its type or id (see classify).
type resource struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	ResourceGroup string    `json:"resourceGroup"`
	Properties    *resource `json:"properties"`

	// VNet
	AddressSpace           *addrSpace  `json:"addressSpace"`
	Subnets                []subnetRaw `json:"subnets"` // also back-references on NSGs and route tables
	VirtualNetworkPeerings []peerRaw   `json:"virtualNetworkPeerings"`

	// Subnet (az network vnet subnet list)
	AddressPrefix        string   `json:"addressPrefix"` // also a route's destination
	AddressPrefixes      []string `json:"addressPrefixes"`
	NetworkSecurityGroup *ref     `json:"networkSecurityGroup"` // also on NICs
	RouteTable           *ref     `json:"routeTable"`

	// Peering (az network vnet peering list)
	PeeringState                     string     `json:"peeringState"`
	RemoteVirtualNetwork             *ref       `json:"remoteVirtualNetwork"`
	RemoteAddressSpace               *addrSpace `json:"remoteAddressSpace"`
	RemoteVirtualNetworkAddressSpace *addrSpace `json:"remoteVirtualNetworkAddressSpace"`

	// NSG
	SecurityRules        []ruleRaw `json:"securityRules"`
	DefaultSecurityRules present   `json:"defaultSecurityRules"` // never imported: ipflow adds them
	NetworkInterfaces    []nicBack `json:"networkInterfaces"`    // back-references

	// Security rule (az network nsg rule list/show)
	ruleFields

	// NIC
	IPConfigurations   []ipcRaw `json:"ipConfigurations"`
	EnableIPForwarding flexBool `json:"enableIPForwarding"`
	Primary            flexBool `json:"primary"`
	VirtualMachine     *ref     `json:"virtualMachine"`
	PrivateEndpoint    *ref     `json:"privateEndpoint"`

	// VM (az vm list -d, az vm show, az vm get-instance-view, REST)
	NetworkProfile *netProfile   `json:"networkProfile"`
	PowerState     string        `json:"powerState"`
	InstanceView   *instanceView `json:"instanceView"`
	Statuses       []statusRaw   `json:"statuses"` // a bare instance view
	Routes         []routeRaw    `json:"routes"`   // route table
	NextHopType    string        `json:"nextHopType"`

	// Recognised only to say what a file is when it is not something ipflow imports.
	Results                json.RawMessage `json:"results"`
	EffectiveSecurityRules json.RawMessage `json:"effectiveSecurityRules"`
	RuleName               string          `json:"ruleName"`
	Schema                 string          `json:"$schema"`
}

// ruleFields are a security rule's own fields (SecurityRulePropertiesFormat).
type ruleFields struct {
	Description                          string   `json:"description"`
	Protocol                             string   `json:"protocol"`
	SourcePortRange                      string   `json:"sourcePortRange"`
	SourcePortRanges                     []string `json:"sourcePortRanges"`
	DestinationPortRange                 string   `json:"destinationPortRange"`
	DestinationPortRanges                []string `json:"destinationPortRanges"`
	SourceAddressPrefix                  string   `json:"sourceAddressPrefix"`
	SourceAddressPrefixes                []string `json:"sourceAddressPrefixes"`
	SourceApplicationSecurityGroups      []ref    `json:"sourceApplicationSecurityGroups"`
	DestinationAddressPrefix             string   `json:"destinationAddressPrefix"`
	DestinationAddressPrefixes           []string `json:"destinationAddressPrefixes"`
	DestinationApplicationSecurityGroups []ref    `json:"destinationApplicationSecurityGroups"`
	Access                               string   `json:"access"`
	Priority                             flexInt  `json:"priority"`
	Direction                            string   `json:"direction"`
}

func (r *ruleFields) merge(p *ruleFields) {
	r.Description = orStr(r.Description, p.Description)
	r.Protocol = orStr(r.Protocol, p.Protocol)
	r.SourcePortRange = orStr(r.SourcePortRange, p.SourcePortRange)
	r.SourcePortRanges = orSlice(r.SourcePortRanges, p.SourcePortRanges)
	r.DestinationPortRange = orStr(r.DestinationPortRange, p.DestinationPortRange)
	r.DestinationPortRanges = orSlice(r.DestinationPortRanges, p.DestinationPortRanges)
	r.SourceAddressPrefix = orStr(r.SourceAddressPrefix, p.SourceAddressPrefix)
	r.SourceAddressPrefixes = orSlice(r.SourceAddressPrefixes, p.SourceAddressPrefixes)
	r.SourceApplicationSecurityGroups = orSlice(r.SourceApplicationSecurityGroups, p.SourceApplicationSecurityGroups)
	r.DestinationAddressPrefix = orStr(r.DestinationAddressPrefix, p.DestinationAddressPrefix)
	r.DestinationAddressPrefixes = orSlice(r.DestinationAddressPrefixes, p.DestinationAddressPrefixes)
	r.DestinationApplicationSecurityGroups = orSlice(r.DestinationApplicationSecurityGroups, p.DestinationApplicationSecurityGroups)
	r.Access = orStr(r.Access, p.Access)
	r.Priority = orInt(r.Priority, p.Priority)
	r.Direction = orStr(r.Direction, p.Direction)
}

// hasRuleShape reports whether the object looks like a security rule.
func (r *ruleFields) hasRuleShape() bool {
	return r.Access != "" && r.Direction != "" && (r.Priority.Set || r.Priority.Bad != "")
}

type ruleRaw struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Properties *ruleRaw `json:"properties"`
	ruleFields
}

func (r *ruleRaw) flatten() {
	if p := r.Properties; p != nil {
		r.Properties = nil
		p.flatten()
		r.ID = orStr(r.ID, p.ID)
		r.Name = orStr(r.Name, p.Name)
		r.Type = orStr(r.Type, p.Type)
		r.ruleFields.merge(&p.ruleFields)
	}
}

type subnetRaw struct {
	ID                   string     `json:"id"`
	Name                 string     `json:"name"`
	Properties           *subnetRaw `json:"properties"`
	AddressPrefix        string     `json:"addressPrefix"`
	AddressPrefixes      []string   `json:"addressPrefixes"`
	NetworkSecurityGroup *ref       `json:"networkSecurityGroup"`
	RouteTable           *ref       `json:"routeTable"`
}

func (s *subnetRaw) flatten() {
	if p := s.Properties; p != nil {
		s.Properties = nil
		p.flatten()
		s.ID = orStr(s.ID, p.ID)
		s.Name = orStr(s.Name, p.Name)
		s.AddressPrefix = orStr(s.AddressPrefix, p.AddressPrefix)
		s.AddressPrefixes = orSlice(s.AddressPrefixes, p.AddressPrefixes)
		s.NetworkSecurityGroup = orPtr(s.NetworkSecurityGroup, p.NetworkSecurityGroup)
		s.RouteTable = orPtr(s.RouteTable, p.RouteTable)
	}
}

type peerRaw struct {
	ID                               string     `json:"id"`
	Name                             string     `json:"name"`
	Properties                       *peerRaw   `json:"properties"`
	PeeringState                     string     `json:"peeringState"`
	RemoteVirtualNetwork             *ref       `json:"remoteVirtualNetwork"`
	RemoteAddressSpace               *addrSpace `json:"remoteAddressSpace"`
	RemoteVirtualNetworkAddressSpace *addrSpace `json:"remoteVirtualNetworkAddressSpace"`
}

func (p *peerRaw) flatten() {
	if q := p.Properties; q != nil {
		p.Properties = nil
		q.flatten()
		p.ID = orStr(p.ID, q.ID)
		p.Name = orStr(p.Name, q.Name)
		p.PeeringState = orStr(p.PeeringState, q.PeeringState)
		p.RemoteVirtualNetwork = orPtr(p.RemoteVirtualNetwork, q.RemoteVirtualNetwork)
		p.RemoteAddressSpace = orPtr(p.RemoteAddressSpace, q.RemoteAddressSpace)
		p.RemoteVirtualNetworkAddressSpace = orPtr(p.RemoteVirtualNetworkAddressSpace, q.RemoteVirtualNetworkAddressSpace)
	}
}

// nicBack is an NSG's back-reference to a NIC; it also spots the security group view shape.
type nicBack struct {
	ID                       string          `json:"id"`
	SecurityRuleAssociations json.RawMessage `json:"securityRuleAssociations"`
}

type ipcRaw struct {
	ID                        string   `json:"id"`
	Name                      string   `json:"name"`
	Properties                *ipcRaw  `json:"properties"`
	PrivateIPAddress          string   `json:"privateIPAddress"`
	PrivateIPAddressVersion   string   `json:"privateIPAddressVersion"`
	Subnet                    *ref     `json:"subnet"`
	Primary                   flexBool `json:"primary"`
	ApplicationSecurityGroups []ref    `json:"applicationSecurityGroups"`
}

func (c *ipcRaw) flatten() {
	if p := c.Properties; p != nil {
		c.Properties = nil
		p.flatten()
		c.ID = orStr(c.ID, p.ID)
		c.Name = orStr(c.Name, p.Name)
		c.PrivateIPAddress = orStr(c.PrivateIPAddress, p.PrivateIPAddress)
		c.PrivateIPAddressVersion = orStr(c.PrivateIPAddressVersion, p.PrivateIPAddressVersion)
		c.Subnet = orPtr(c.Subnet, p.Subnet)
		c.Primary = orBool(c.Primary, p.Primary)
		c.ApplicationSecurityGroups = orSlice(c.ApplicationSecurityGroups, p.ApplicationSecurityGroups)
	}
}

type netProfile struct {
	NetworkInterfaces []nicRef `json:"networkInterfaces"`
}

type nicRef struct {
	ID         string   `json:"id"`
	Primary    flexBool `json:"primary"`
	Properties *struct {
		Primary flexBool `json:"primary"`
	} `json:"properties"`
}

func (n *nicRef) primary() flexBool {
	if n.Primary.Set || n.Properties == nil {
		return n.Primary
	}
	return n.Properties.Primary
}

type instanceView struct {
	Statuses []statusRaw `json:"statuses"`
}

type statusRaw struct {
	Code          string `json:"code"`
	DisplayStatus string `json:"displayStatus"`
}

type routeRaw struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Properties    *routeRaw `json:"properties"`
	AddressPrefix string    `json:"addressPrefix"`
	NextHopType   string    `json:"nextHopType"`
}

func (r *routeRaw) flatten() {
	if p := r.Properties; p != nil {
		r.Properties = nil
		p.flatten()
		r.ID = orStr(r.ID, p.ID)
		r.Name = orStr(r.Name, p.Name)
		r.AddressPrefix = orStr(r.AddressPrefix, p.AddressPrefix)
		r.NextHopType = orStr(r.NextHopType, p.NextHopType)
	}
}

// flatten folds "properties" (the REST shape) into the top level (the CLI shape), recursively.
func (r *resource) flatten() {
	if p := r.Properties; p != nil {
		r.Properties = nil
		p.flatten()
		r.ID = orStr(r.ID, p.ID)
		r.Name = orStr(r.Name, p.Name)
		r.Type = orStr(r.Type, p.Type)
		r.ResourceGroup = orStr(r.ResourceGroup, p.ResourceGroup)
		r.AddressSpace = orPtr(r.AddressSpace, p.AddressSpace)
		r.Subnets = orSlice(r.Subnets, p.Subnets)
		r.VirtualNetworkPeerings = orSlice(r.VirtualNetworkPeerings, p.VirtualNetworkPeerings)
		r.AddressPrefix = orStr(r.AddressPrefix, p.AddressPrefix)
		r.AddressPrefixes = orSlice(r.AddressPrefixes, p.AddressPrefixes)
		r.NetworkSecurityGroup = orPtr(r.NetworkSecurityGroup, p.NetworkSecurityGroup)
		r.RouteTable = orPtr(r.RouteTable, p.RouteTable)
		r.PeeringState = orStr(r.PeeringState, p.PeeringState)
		r.RemoteVirtualNetwork = orPtr(r.RemoteVirtualNetwork, p.RemoteVirtualNetwork)
		r.RemoteAddressSpace = orPtr(r.RemoteAddressSpace, p.RemoteAddressSpace)
		r.RemoteVirtualNetworkAddressSpace = orPtr(r.RemoteVirtualNetworkAddressSpace, p.RemoteVirtualNetworkAddressSpace)
		r.SecurityRules = orSlice(r.SecurityRules, p.SecurityRules)
		r.DefaultSecurityRules = r.DefaultSecurityRules || p.DefaultSecurityRules
		r.NetworkInterfaces = orSlice(r.NetworkInterfaces, p.NetworkInterfaces)
		r.ruleFields.merge(&p.ruleFields)
		r.IPConfigurations = orSlice(r.IPConfigurations, p.IPConfigurations)
		r.EnableIPForwarding = orBool(r.EnableIPForwarding, p.EnableIPForwarding)
		r.Primary = orBool(r.Primary, p.Primary)
		r.VirtualMachine = orPtr(r.VirtualMachine, p.VirtualMachine)
		r.PrivateEndpoint = orPtr(r.PrivateEndpoint, p.PrivateEndpoint)
		r.NetworkProfile = orPtr(r.NetworkProfile, p.NetworkProfile)
		r.PowerState = orStr(r.PowerState, p.PowerState)
		r.InstanceView = orPtr(r.InstanceView, p.InstanceView)
		r.Statuses = orSlice(r.Statuses, p.Statuses)
		r.Routes = orSlice(r.Routes, p.Routes)
		r.NextHopType = orStr(r.NextHopType, p.NextHopType)
	}
	for i := range r.Subnets {
		r.Subnets[i].flatten()
	}
	for i := range r.VirtualNetworkPeerings {
		r.VirtualNetworkPeerings[i].flatten()
	}
	for i := range r.SecurityRules {
		r.SecurityRules[i].flatten()
	}
	for i := range r.IPConfigurations {
		r.IPConfigurations[i].flatten()
	}
	for i := range r.Routes {
		r.Routes[i].flatten()
	}
}

// envelope is what a top-level JSON object may wrap resources in: a REST list response
// ({"value": [...]}), a Resource Graph response ({"data": [...]}), an API specification example
// ({"parameters": ..., "responses": {"200": {"body": ...}}}) or the Service Tags file
// ({"values": [...]}).
type envelope struct {
	Value     json.RawMessage            `json:"value"`
	Data      json.RawMessage            `json:"data"`
	Values    json.RawMessage            `json:"values"`
	NextLink  string                     `json:"nextLink"`
	SkipToken string                     `json:"skip_token"` // Resource Graph: more pages
	SkipTok2  string                     `json:"$skipToken"`
	Responses map[string]json.RawMessage `json:"responses"`
	Cloud     string                     `json:"cloud"`
}

type responseRaw struct {
	Body json.RawMessage `json:"body"`
}

// tagRaw is one entry of the Service Tags file (values[]).
type tagRaw struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Properties struct {
		AddressPrefixes []string `json:"addressPrefixes"`
	} `json:"properties"`
	AddressPrefixes []string `json:"addressPrefixes"`
}
