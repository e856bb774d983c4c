package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"ipflow/model"
	"reflect"
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
// spelling differences (privateIpAddress / privateIPAddress). Each type that can come in both
// shapes decodes itself with bothShapes: the object under "properties" into the struct first,
// then the top level over it, so every field is read from either place and none can be left
// out of a merge. Fields of a type Azure never prints (a number where a string belongs, ...) are
// ignored: decoding is lenient on purpose, because what matters is what can be recognised.

// bothShapes decodes b into v (a method-less copy of the caller's type) in both shapes: the
// "properties" object first (recursively: properties may hold properties), then the top level
// over it. props is v's Properties field, which bothShapes leaves empty. A field of the wrong
// type is skipped, as json.Unmarshal does, and the rest is decoded.
func bothShapes[T any](b []byte, v *T, props *json.RawMessage) error {
	return bothShapesNoting(b, v, props, nil)
}

// bothShapesNoting is bothShapes that also keeps the first field of the wrong type in *bad (when
// bad is not nil), so that a resource whose "subnets" is a string is reported, not imported
// silently without subnets.
func bothShapesNoting[T any](b []byte, v *T, props *json.RawMessage, bad **json.UnmarshalTypeError) error {
	note := func(err error) {
		var te *json.UnmarshalTypeError
		if bad != nil && *bad == nil && errors.As(err, &te) {
			*bad = te
		}
	}
	err := json.Unmarshal(b, v)
	if err != nil && !isTypeError(err) {
		return err
	}
	note(err)
	inner := *props
	*props = nil
	if !isObject(inner) {
		return nil // no properties (the CLI shape), or properties that are not an object
	}
	var zero T
	*v = zero
	if err := bothShapesNoting(inner, v, props, bad); err != nil {
		return err
	}
	err = json.Unmarshal(b, v) // the top level over the properties
	*props = nil
	if err != nil && !isTypeError(err) {
		return err
	}
	note(err)
	return nil
}

// wrongType says what a field of the wrong type held and what Azure writes there.
func wrongType(te *json.UnmarshalTypeError) string {
	want := "a value of another type"
	switch te.Type.Kind() {
	case reflect.Slice, reflect.Array:
		want = "an array"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		want = "an object"
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		want = "a number"
	}
	field := te.Field
	if field == "" {
		field = "?"
	}
	return fmt.Sprintf("field %s is a JSON %s where Azure writes %s; ignored", model.QuoteName(field), te.Value, want)
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

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

func orStr(a, b string) string {
	if a != "" {
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

// resource is the union of the top-level objects the importer reads: VNets, subnets, peerings,
// NSGs, security rules, NICs, VMs, ASGs, route tables and routes. Which one an object is comes
// from its type or id (see classify).
type resource struct {
	ID            string                   `json:"id"`
	Name          string                   `json:"name"`
	Type          string                   `json:"type"`
	ResourceGroup string                   `json:"resourceGroup"`
	Properties    json.RawMessage          `json:"properties"`
	badField      *json.UnmarshalTypeError // the first field of a type Azure never prints

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

// hasRuleShape reports whether the object looks like a security rule.
func (r *ruleFields) hasRuleShape() bool {
	return r.Access != "" && r.Direction != "" && (r.Priority.Set || r.Priority.Bad != "")
}

type ruleRaw struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Properties json.RawMessage `json:"properties"`
	ruleFields
}

type subnetRaw struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Properties           json.RawMessage `json:"properties"`
	AddressPrefix        string          `json:"addressPrefix"`
	AddressPrefixes      []string        `json:"addressPrefixes"`
	NetworkSecurityGroup *ref            `json:"networkSecurityGroup"`
	RouteTable           *ref            `json:"routeTable"`
}

type peerRaw struct {
	ID                               string          `json:"id"`
	Name                             string          `json:"name"`
	Properties                       json.RawMessage `json:"properties"`
	PeeringState                     string          `json:"peeringState"`
	RemoteVirtualNetwork             *ref            `json:"remoteVirtualNetwork"`
	RemoteAddressSpace               *addrSpace      `json:"remoteAddressSpace"`
	RemoteVirtualNetworkAddressSpace *addrSpace      `json:"remoteVirtualNetworkAddressSpace"`
}

// nicBack is an NSG's back-reference to a NIC; it also spots the security group view shape.
type nicBack struct {
	ID                       string          `json:"id"`
	SecurityRuleAssociations json.RawMessage `json:"securityRuleAssociations"`
}

type ipcRaw struct {
	ID                        string          `json:"id"`
	Name                      string          `json:"name"`
	Properties                json.RawMessage `json:"properties"`
	PrivateIPAddress          string          `json:"privateIPAddress"`
	PrivateIPAddressVersion   string          `json:"privateIPAddressVersion"`
	Subnet                    *ref            `json:"subnet"`
	Primary                   flexBool        `json:"primary"`
	ApplicationSecurityGroups []ref           `json:"applicationSecurityGroups"`
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
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Properties    json.RawMessage `json:"properties"`
	AddressPrefix string          `json:"addressPrefix"`
	NextHopType   string          `json:"nextHopType"`
}

// Each resource shape decodes itself in both shapes (see bothShapes).

func (r *resource) UnmarshalJSON(b []byte) error {
	type plain resource
	return bothShapesNoting(b, (*plain)(r), &r.Properties, &r.badField)
}

func (r *ruleRaw) UnmarshalJSON(b []byte) error {
	type plain ruleRaw
	return bothShapes(b, (*plain)(r), &r.Properties)
}

func (s *subnetRaw) UnmarshalJSON(b []byte) error {
	type plain subnetRaw
	return bothShapes(b, (*plain)(s), &s.Properties)
}

func (p *peerRaw) UnmarshalJSON(b []byte) error {
	type plain peerRaw
	return bothShapes(b, (*plain)(p), &p.Properties)
}

func (c *ipcRaw) UnmarshalJSON(b []byte) error {
	type plain ipcRaw
	return bothShapes(b, (*plain)(c), &c.Properties)
}

func (r *routeRaw) UnmarshalJSON(b []byte) error {
	type plain routeRaw
	return bothShapes(b, (*plain)(r), &r.Properties)
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
