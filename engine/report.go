package engine

import (
	"encoding/json"
	"ipflow/model"
)

type jsonResult struct {
	Access               string      `json:"access"`
	RuleName             string      `json:"ruleName,omitempty"`
	NetworkSecurityGroup string      `json:"networkSecurityGroup,omitempty"`
	AppliedTo            string      `json:"appliedTo,omitempty"`
	Flow                 jsonFlow    `json:"flow"`
	Evaluated            []jsonLayer `json:"evaluated"`
	Notes                []string    `json:"notes"`
}

type jsonFlow struct {
	VM              string `json:"vm"`
	NIC             string `json:"nic"`
	IPConfiguration string `json:"ipConfiguration"`
	Direction       string `json:"direction"`
	Protocol        string `json:"protocol"`
	LocalIPAddress  string `json:"localIPAddress"`
	LocalPort       string `json:"localPort"`
	RemoteIPAddress string `json:"remoteIPAddress"`
	RemotePort      string `json:"remotePort"`
}

type jsonLayer struct {
	Layer       string       `json:"layer"`
	Name        string       `json:"name,omitempty"`
	AppliedTo   string       `json:"appliedTo"`
	Status      string       `json:"status"`
	Reason      string       `json:"reason,omitempty"`
	MatchedRule *jsonMatched `json:"matchedRule,omitempty"`
	Rules       []jsonRule   `json:"rules"`
}

type jsonMatched struct {
	RuleName string `json:"ruleName"`
	Action   string `json:"action"`
}

type jsonRule struct {
	RuleName               string `json:"ruleName"`
	Priority               int    `json:"priority"`
	Access                 string `json:"access"`
	ProtocolMatched        bool   `json:"protocolMatched"`
	SourceMatched          bool   `json:"sourceMatched"`
	SourcePortMatched      bool   `json:"sourcePortMatched"`
	DestinationMatched     bool   `json:"destinationMatched"`
	DestinationPortMatched bool   `json:"destinationPortMatched"`
	Why                    string `json:"why"`
}

var statusNames = map[LayerStatus]string{Evaluated: "evaluated", NoNSG: "noNetworkSecurityGroup", NotReached: "notEvaluated"}

// MarshalJSON writes the result in the shape of Network Watcher's IP flow verify: Azure's access and ruleName first,
// then the deciding layer, the flow, and every layer with every rule tried.
func (r *Result) MarshalJSON() ([]byte, error) {
	out := jsonResult{
		Access:   r.Access.String(),
		RuleName: r.RuleName(),
		Flow: jsonFlow{VM: r.VM.Name, NIC: r.NIC.Name, IPConfiguration: r.IPConfig.Name,
			Direction: r.Flow.Direction.String(), Protocol: r.Flow.Protocol.FlowString(),
			LocalIPAddress: r.Flow.LocalIP.String(), LocalPort: r.Flow.LocalPort.String(),
			RemoteIPAddress: r.Flow.RemoteIP.String(), RemotePort: r.Flow.RemotePort.String()},
		Evaluated: make([]jsonLayer, 0, len(r.Layers)),
		Notes:     r.Notes,
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	if l := r.Layer; l != nil {
		out.AppliedTo = l.AppliedTo
		if l.NSG != nil {
			out.NetworkSecurityGroup = l.NSG.Name
		}
	}
	for _, l := range r.Layers {
		jl := jsonLayer{Layer: "networkSecurityGroup", Name: l.Name(), AppliedTo: l.AppliedTo,
			Status: statusNames[l.Status], Reason: l.Reason, Rules: make([]jsonRule, 0, len(l.Tried))}
		if l.Kind == AdminLayer {
			jl.Layer, jl.Name = "securityAdminRules", ""
		}
		if m := l.Matched(); m != nil {
			jl.MatchedRule = &jsonMatched{RuleName: m.ID(), Action: m.Access.String()}
		}
		for i := range l.Tried {
			c := l.Check(i)
			jl.Rules = append(jl.Rules, jsonRule{
				RuleName: c.Rule.ID(), Priority: c.Rule.Priority, Access: c.Rule.Access.String(),
				ProtocolMatched: c.Fields.Has(FieldProtocol), SourceMatched: c.Fields.Has(FieldSource),
				SourcePortMatched: c.Fields.Has(FieldSourcePort), DestinationMatched: c.Fields.Has(FieldDestination),
				DestinationPortMatched: c.Fields.Has(FieldDestinationPort), Why: r.Reason(c),
			})
		}
		out.Evaluated = append(out.Evaluated, jl)
	}
	data, err := json.Marshal(out)
	return model.EscapeJSON(data), err // names from fixtures: no raw C1 or bidi controls
}
