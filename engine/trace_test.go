package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"ipflow/engine"
)

// TestTrace checks the trace NSG diagnostics would give (§7.2 [S1][S7]): rules in priority order up
// to and including the match, five booleans each, and the layers after a deny not evaluated.
func TestTrace(t *testing.T) {
	e := estate(t, allowHTTPS, "none", "")
	res, err := e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:123 13.107.21.200:60000"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Layers) != 2 {
		t.Fatalf("%d layers, want subnet then NIC", len(res.Layers))
	}
	sub, nic := res.Layers[0], res.Layers[1]
	if sub.Kind != engine.SubnetLayer || sub.Status != engine.Evaluated || nic.Kind != engine.NICLayer || nic.Status != engine.NotReached {
		t.Fatalf("layers %+v / %+v", sub, nic)
	}
	if !strings.Contains(nic.Reason, "NSG subnet-nsg on subnet/hub/web denied the flow") {
		t.Errorf("NIC layer reason %q", nic.Reason)
	}
	var names []string
	for _, r := range sub.Rules()[:len(sub.Tried)] {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); got != "allow-https AllowVnetInBound AllowAzureLoadBalancerInBound DenyAllInBound" {
		t.Errorf("rules tried: %s", got)
	}
	if sub.Match != 3 || sub.Matched().Name != "DenyAllInBound" {
		t.Errorf("match %d", sub.Match)
	}
	c0 := sub.Check(0)
	for f := range engine.FieldCount {
		if want := f != engine.FieldDestinationPort; c0.Fields.Has(f) != want {
			t.Errorf("allow-https %s matched = %v", f, c0.Fields.Has(f))
		}
	}
	wants := map[engine.Field]string{
		engine.FieldProtocol:        "protocol TCP is Tcp",
		engine.FieldSource:          "source 13.107.21.200 matches *",
		engine.FieldSourcePort:      "source port 60000 matches *",
		engine.FieldDestinationPort: "destination port 123 is not in 443, 8000-8080",
	}
	for f, want := range wants {
		if got := res.Why(c0, f); got != want {
			t.Errorf("Why(%s) = %q, want %q", f, got, want)
		}
	}
	if got := res.Reason(sub.Check(1)); !strings.HasPrefix(got, "source 13.107.21.200 is not in VirtualNetwork (here it is VNet hub 10.0.0.0/16, peered spoke 10.2.0.0/16, on-premises 192.168.0.0/16, spoke's on-premises 172.30.0.0/16") {
		t.Errorf("AllowVnetInBound reason %q", got)
	}
	if got := res.Reason(sub.Check(3)); got != "all five checks match" {
		t.Errorf("DenyAllInBound reason %q", got)
	}
	if rest := len(nic.Rules()); rest != 3 {
		t.Errorf("NIC layer lists %d inbound rules, want the 3 defaults", rest)
	}
}

func TestWhyExplainsTagsAndASGs(t *testing.T) {
	e := estate(t, rule("name=app-to-web", "priority=100", "direction=Inbound", "access=Allow", "protocol=Tcp", `source_asgs=["app"]`, `destination_asgs=["web"]`, "destination_ports=8080"), "", "")
	cases := []struct{ flow, reason string }{
		{"vm1 inbound tcp 10.0.1.4:22 10.2.0.4:50000", "source 10.2.0.4 is in VirtualNetwork through peering hub ↔ spoke (10.2.0.0/16)"},
		{"vm1 inbound tcp 10.0.1.4:22 192.168.1.1:50000", "source 192.168.1.1 is in VirtualNetwork through on-premises prefix 192.168.0.0/16 of VNet hub's gateway"},
		{"vm1 inbound tcp 10.0.1.4:22 172.30.1.1:50000", "source 172.30.1.1 is in VirtualNetwork through on-premises prefix 172.30.0.0/16 of peered VNet spoke"},
		{"vm1 inbound tcp 10.0.1.4:22 168.63.129.16:50000", "168.63.129.16, the Azure host address, is always in VirtualNetwork"},
		{"vm1 inbound tcp 10.0.1.4:8080 10.0.4.4:50000", "source 10.0.4.4 is in ASG app (ipconfig1 of nic1b is a member); destination 10.0.1.4 is in ASG web (ipconfig1 of nic1 is a member)"},
	}
	for _, c := range cases {
		res, err := e.Verify(flow(t, c.flow))
		if err != nil {
			t.Fatal(err)
		}
		l := res.Layers[0]
		if got := res.Reason(l.Check(l.Match)); !strings.Contains(got, c.reason) {
			t.Errorf("%s: reason %q\n does not say %q", c.flow, got, c.reason)
		}
	}
	// A non-member destination IP configuration says so.
	res, _ := e.Verify(flow(t, "vm1 inbound tcp 10.0.1.5:8080 10.2.0.4:50000"))
	if got := res.Why(res.Layers[0].Check(0), engine.FieldDestination); got != "destination 10.0.1.5 is not in ASG web: ipconfig2 of nic1 is not a member" {
		t.Errorf("non-member: %q", got)
	}
	// Forced tunnel: the route is named.
	res, _ = e.Verify(flow(t, "tunnel-vm outbound tcp 10.0.3.4:5000 13.107.21.200:443"))
	m := res.Layers[1].Check(res.Layers[1].Match)
	if got := res.Why(m, engine.FieldDestination); !strings.Contains(got, "through user-defined route 0.0.0.0/0 on subnet hub/tunnel; a 0.0.0.0/0 route makes VirtualNetwork every address") {
		t.Errorf("forced tunnel: %q", got)
	}
	// Private space outside the VNet is neither VirtualNetwork nor Internet (§11.5 [D8]).
	res, _ = e.Verify(flow(t, "vm1 outbound tcp 10.0.1.4:5000 172.31.0.100:80"))
	l := res.Layers[1]
	if got := res.Why(l.Check(1), engine.FieldDestination); got != "destination 172.31.0.100 is not in Internet: it is in reserved range 172.16.0.0/12, which is neither VirtualNetwork nor Internet" {
		t.Errorf("private space: %q (rule %s)", got, l.Check(1).Rule.Name)
	}
}

func TestNotes(t *testing.T) {
	e := estate(t, "none", "", "")
	res, _ := e.Verify(flow(t, "vm1 inbound icmp 10.0.1.4:0 10.0.1.9:0"))
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "accepts only TCP and UDP") {
		t.Errorf("ICMP note missing: %q", res.Notes)
	}
	res, _ = e.Verify(flow(t, "vm1 outbound tcp 10.0.1.4:5000 169.254.169.254:80"))
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "Azure platform address") {
		t.Errorf("platform note missing: %q", res.Notes)
	}
	res, _ = e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:5000 10.0.1.9:50000"))
	if len(res.Notes) != 0 {
		t.Errorf("unexpected notes %q", res.Notes)
	}
}

func TestJSON(t *testing.T) {
	e := estate(t, allowHTTPS, "none", "")
	res, err := e.Verify(flow(t, "vm1 inbound tcp 10.0.1.4:123 13.107.21.200:60000"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	// Azure's two fields (access, ruleName) come first.
	if !strings.HasPrefix(s, `{"access":"Deny","ruleName":"defaultSecurityRules/DenyAllInBound","networkSecurityGroup":"subnet-nsg","appliedTo":"subnet/hub/web","flow":{"vm":"vm1","nic":"nic1"`) {
		t.Errorf("JSON starts %.200s", s)
	}
	var out struct {
		Flow struct {
			Direction, Protocol, LocalIPAddress, LocalPort, RemoteIPAddress, RemotePort string
		}
		Evaluated []struct {
			Layer, Name, AppliedTo, Status, Reason string
			MatchedRule                            *struct{ RuleName, Action string }
			Rules                                  []struct {
				RuleName                                                                                      string
				Priority                                                                                      int
				ProtocolMatched, SourceMatched, SourcePortMatched, DestinationMatched, DestinationPortMatched bool
				Why                                                                                           string
			}
		}
		Notes []string
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if f := out.Flow; f.Direction != "Inbound" || f.Protocol != "TCP" || f.LocalPort != "123" || f.RemoteIPAddress != "13.107.21.200" {
		t.Errorf("flow %+v", f)
	}
	if len(out.Evaluated) != 2 || out.Evaluated[0].MatchedRule.RuleName != "defaultSecurityRules/DenyAllInBound" || out.Evaluated[1].Status != "notEvaluated" {
		t.Fatalf("evaluated %+v", out.Evaluated)
	}
	r0 := out.Evaluated[0].Rules[0]
	if r0.RuleName != "securityRules/allow-https" || r0.Priority != 100 || !r0.ProtocolMatched || r0.DestinationPortMatched || r0.Why != "destination port 123 is not in 443, 8000-8080" {
		t.Errorf("first rule %+v", r0)
	}
	if out.Notes == nil {
		t.Error("notes must be [] not null")
	}
}
