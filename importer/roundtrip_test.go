package importer_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/importer"
	"ipflow/model"
)

func importDir(t testing.TB, dir string) *importer.Output {
	t.Helper()
	ins, err := importer.ExpandPaths([]string{dir}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := importer.Import(ins)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return out
}

func load(t testing.TB, out *importer.Output) *model.Environment {
	t.Helper()
	env, err := model.Load(model.Source{Name: "env.toml", Data: out.TOML})
	if err != nil {
		t.Fatalf("model.Load of the imported fixture: %v\n%s", err, out.TOML)
	}
	return env
}

// TestRoundTrip imports the CLI-shaped estate, loads the fixture with the model, and checks the
// verdicts the engine gives against the verdicts Azure gives for that estate
// (Azure's default rules, NSG order and VirtualNetwork tag; each case says which imported fact it
// depends on).
func TestRoundTrip(t *testing.T) {
	out := importDir(t, filepath.Join("testdata", "cli"))
	env := load(t, out)
	for _, w := range env.Warnings {
		// The only warnings the model may give: NSGs attached nowhere, the ASG with no members.
		if s := w.String(); !strings.Contains(s, "attached to no subnet and no NIC") && !strings.Contains(s, "has no members") {
			t.Errorf("model warning: %s", s)
		}
	}
	eng := engine.Compile(env)
	ip := netip.MustParseAddr
	type flow struct {
		name         string
		vm, nic      string
		dir          model.Direction
		local        string
		lport        engine.Port
		remote       string
		rport        engine.Port
		access       model.Access
		rule         string // RuleName; "" when no rule decides
		err          string // expected error instead of a verdict
		layerMatched string // a rule some layer of the trace matched, when it matters
		protocol     model.Protocol
	}
	in, out2 := model.Inbound, model.Outbound
	for _, f := range []flow{
		{name: "Internet HTTPS allowed by both NSGs; NIC NSG reported last",
			vm: "web-01", dir: in, local: "10.0.1.4", lport: 443, remote: "8.8.8.8", rport: 50000, access: model.Allow, rule: "securityRules/allow-https"},
		{name: "plural source prefixes: 198.51.100.99 is not 198.51.100.10",
			vm: "web-01", dir: in, local: "10.0.1.4", lport: 80, remote: "198.51.100.99", rport: 1234, access: model.Deny, rule: "defaultSecurityRules/DenyAllInBound"},
		{name: "plural prefixes and port ranges match at the subnet; the NIC NSG denies",
			vm: "web-01", dir: in, local: "10.0.1.4", lport: 8085, remote: "203.0.113.7", rport: 1234, access: model.Deny, rule: "defaultSecurityRules/DenyAllInBound", layerMatched: "allow-web-partners"},
		{name: "service tag Storage.WestEurope from the tags file",
			vm: "web-01", dir: out2, local: "10.0.1.4", lport: 50000, remote: "20.38.96.10", rport: 443, access: model.Allow, rule: "defaultSecurityRules/AllowInternetOutBound", layerMatched: "allow-storage-out"},
		{name: "outbound Internet denied by the NIC NSG",
			vm: "web-01", dir: out2, local: "10.0.1.4", lport: 50000, remote: "8.8.8.8", rport: 443, access: model.Deny, rule: "securityRules/deny-internet-out"},
		{name: "ASG to ASG: web-01's second IP configuration is in asg-web",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 1433, remote: "10.0.1.5", rport: 50000, access: model.Allow, rule: "securityRules/allow-web-to-db"},
		{name: "not an ASG member: falls to AllowVnetInBound",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 1433, remote: "10.0.1.9", rport: 50000, access: model.Allow, rule: "defaultSecurityRules/AllowVnetInBound"},
		{name: "custom deny in the subnet NSG of the other resource group's shared-nsg",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 3389, remote: "10.0.1.4", rport: 50000, access: model.Deny, rule: "securityRules/deny-rdp"},
		{name: "Connected peering hub-spoke: the spoke is VirtualNetwork",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 5000, remote: "10.1.1.4", rport: 50000, access: model.Allow, rule: "defaultSecurityRules/AllowVnetInBound"},
		{name: "Disconnected peering hub-legacy: legacy is not VirtualNetwork",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 5000, remote: "10.9.0.4", rport: 50000, access: model.Deny, rule: "defaultSecurityRules/DenyAllInBound"},
		{name: "peer not exported (partner-vnet) is VirtualNetwork for the spoke",
			vm: "nva-01", nic: "nva-01-nic-app", dir: in, local: "10.1.1.10", lport: 22, remote: "172.16.5.5", rport: 50000, access: model.Allow, rule: "defaultSecurityRules/AllowVnetInBound"},
		{name: "peering is not transitive: partner-vnet is not VirtualNetwork for the hub",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 5000, remote: "172.16.5.5", rport: 50000, access: model.Deny, rule: "defaultSecurityRules/DenyAllInBound"},
		{name: "custom rule of rg-app:shared-nsg",
			vm: "nva-01", dir: in, local: "10.1.1.10", lport: 22, remote: "10.0.1.4", rport: 50000, access: model.Allow, rule: "securityRules/allow-ssh-from-hub"},
		{name: "route table route 192.168.10.0/24 is VirtualNetwork for the web subnet",
			vm: "web-01", dir: in, local: "10.0.1.4", lport: 22, remote: "192.168.10.5", rport: 50000, access: model.Allow, rule: "defaultSecurityRules/AllowVnetInBound"},
		{name: "... and not for the db subnet",
			vm: "db-01", dir: in, local: "10.0.2.4", lport: 5000, remote: "192.168.10.5", rport: 50000, access: model.Deny, rule: "defaultSecurityRules/DenyAllInBound"},
		{name: "second NIC without NSGs: allowed, no rule",
			vm: "nva-01", nic: "nva-01-nic-dmz", dir: in, local: "10.1.2.10", lport: 80, remote: "8.8.8.8", rport: 50000, access: model.Allow, rule: ""},
		{name: "AzureLoadBalancer rule on the NIC",
			vm: "web-01", dir: in, local: "10.0.1.4", lport: 80, remote: "168.63.129.16", rport: 50000, access: model.Allow, rule: "securityRules/allow-lb-probe"},
		{name: "deallocated VM (power state from az vm list -d)",
			vm: "app-01", dir: in, local: "10.1.1.4", lport: 22, remote: "10.0.1.4", rport: 50000, err: "allocated"},
		{name: "VM whose NIC was not exported is not imported",
			vm: "ghost-01", dir: in, local: "10.1.1.4", lport: 22, remote: "10.0.1.4", rport: 50000, err: "ghost-01"},
	} {
		t.Run(f.name, func(t *testing.T) {
			proto := f.protocol
			if proto == model.AnyProtocol {
				proto = model.TCP
			}
			res, err := eng.Verify(engine.Flow{VM: f.vm, NIC: f.nic, Direction: f.dir, Protocol: proto,
				LocalIP: ip(f.local), LocalPort: f.lport, RemoteIP: ip(f.remote), RemotePort: f.rport})
			if f.err != "" {
				if err == nil || !strings.Contains(err.Error(), f.err) {
					t.Fatalf("err = %v, want one with %q", err, f.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Access != f.access || res.RuleName() != f.rule {
				t.Errorf("got %s %q, want %s %q", res.Access, res.RuleName(), f.access, f.rule)
			}
			if f.layerMatched != "" {
				found := false
				for _, l := range res.Layers {
					if r := l.Matched(); r != nil && r.Name == f.layerMatched {
						found = true
					}
				}
				if !found {
					t.Errorf("no layer matched rule %q", f.layerMatched)
				}
			}
		})
	}
}

// TestAzureSamples imports every file of testdata/samples one by one: the resource exports (REST
// and CLI shapes) are imported, the Network Watcher outputs (diagnostics, IP flow verify, effective
// rules, security group view) and the ARM template are "no known kind" errors. Imported as a
// folder, those are skipped with a warning, the fixture loads, and its verdicts are Azure's.
func TestAzureSamples(t *testing.T) {
	dir := filepath.Join("testdata", "samples")
	// file -> a line the fixture must hold; "" = nothing but a warning; "-" = nothing alone (it
	// only adds to resources of other files: tags to rules, peerings and routes to VNets).
	imported := map[string]string{
		"ServiceTags_Public_20260112.json":     "-",
		"cli-nic-show.json":                    "",
		"cli-nsg-rule-show.json":               `destination_ports = "3389"`,
		"cli-vnet-peering-list.json":           "-",
		"rest-asg-list.json":                   `name = "asg-db"`,
		"rest-avnm-admin-rule-put.json":        "",
		"rest-default-security-rule-list.json": `name = "edge-nsg"`,
		"rest-nic-get.json":                    "",
		"rest-nic-list.json":                   "",
		"rest-nsg-get.json":                    `destination_ports = ["1433", "5432"]`,
		"rest-nsg-rule-get.json":               `destination = "10.30.1.0/24"`,
		"rest-route-table-get.json":            "-",
		"rest-vm-get.json":                     "",
		"rest-vm-instance-view.json":           "",
		"rest-vm-list.json":                    "",
		"rest-vnet-get.json":                   `peerings = ["edge-vnet"]`,
		"rest-vnet-list.json":                  `prefix = "10.30.1.0/24"`,
	}
	unknown := map[string]string{
		"cli-run-configuration-diagnostic.json": "NSG diagnostics",
		"rest-ip-flow-verify.json":              "IP flow verify result",
		"rest-nic-effective-nsg-list.json":      "effective security rules",
		"rest-security-group-view.json":         "security group view",
		"arm-template.json":                     "ARM template",
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		n++
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := importer.Import([]importer.Input{{Name: e.Name(), Data: data}})
		if want, ok := unknown[e.Name()]; ok {
			if err == nil || !strings.Contains(err.Error(), e.Name()+": no known kind") || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: err = %v, want a no-known-kind error saying %q", e.Name(), err, want)
			}
			continue
		}
		want, ok := imported[e.Name()]
		if !ok {
			t.Errorf("%s: a sample this test does not know; add it to a table", e.Name())
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if want != "" && want != "-" && !strings.Contains(string(out.TOML), want) {
			t.Errorf("%s: fixture lacks %q:\n%s", e.Name(), want, out.TOML)
		}
		if want == "" && len(out.Warnings) == 0 {
			t.Errorf("%s: nothing imported and no warning says why", e.Name())
		}
		if want != "" && want != "-" {
			load(t, out)
		}
	}
	if n != len(imported)+len(unknown) {
		t.Errorf("%d samples, the tables know %d", n, len(imported)+len(unknown))
	}

	out := importDir(t, dir)
	env := load(t, out)
	if len(env.VNets) != 2 || len(env.NSGs) != 2 || len(env.VMs) != 3 || len(env.ASGs) != 2 {
		t.Errorf("folder import: %d VNets, %d NSGs, %d VMs, %d ASGs; want 2, 2, 3, 2\n%s",
			len(env.VNets), len(env.NSGs), len(env.VMs), len(env.ASGs), out.TOML)
	}
	for _, w := range []string{
		"cli-run-configuration-diagnostic.json: no known kind",
		"arm-template.json: no known kind",
		`admin rule "deny-smb"`,
		"instance view",
		`its NSG "db-nsg" (rg-core) was not exported`,
		`no powerState ("edge-01")`,
		`"Sql.WestEurope": 1 IPv6 prefix skipped`,
	} {
		if !hasWarning(out.Warnings, w) {
			t.Errorf("no warning with %q:\n%s", w, strings.Join(out.Warnings, "\n"))
		}
	}

	// Verdicts on the imported estate: each depends on a field read from one shape.
	eng := engine.Compile(env)
	ip := netip.MustParseAddr
	in, outb := model.Inbound, model.Outbound
	for _, f := range []struct {
		name, vm      string
		dir           model.Direction
		local         string
		lport         engine.Port
		remote        string
		access        model.Access
		rule, errPart string
	}{
		{"REST rule under properties: HTTPS from the Internet", "app-01", in, "10.20.1.4", 443, "8.8.8.8", model.Allow, "securityRules/allow-https-in", ""},
		{"REST plural prefixes and ports: partner SSH range denied", "app-01", in, "10.20.1.4", 2222, "203.0.113.20", model.Deny, "securityRules/deny-partners-ssh", ""},
		{"Connected peering (REST): edge-vnet is VirtualNetwork", "app-01", in, "10.20.1.4", 8080, "10.30.1.4", model.Allow, "defaultSecurityRules/AllowVnetInBound", ""},
		{"Initiated peering: lab-vnet is not VirtualNetwork", "app-01", in, "10.20.1.4", 8080, "10.40.0.9", model.Deny, "defaultSecurityRules/DenyAllInBound", ""},
		{"Disconnected peering: old-vnet is not VirtualNetwork", "app-01", in, "10.20.1.4", 8080, "10.50.0.9", model.Deny, "defaultSecurityRules/DenyAllInBound", ""},
		{"REST ASG membership and ASG-to-ASG rule", "app-01", outb, "10.20.1.4", 50000, "10.20.2.4", model.Allow, "securityRules/allow-app-to-db", ""},
		{"second IP configuration is not in asg-app", "app-01", outb, "10.20.1.5", 50000, "10.20.2.4", model.Allow, "defaultSecurityRules/AllowVnetOutBound", ""},
		{"service tag from the tags file", "app-01", outb, "10.20.1.4", 50000, "13.69.105.7", model.Allow, "securityRules/allow-sql-out", ""},
		{"CLI rule show: RDP from the Internet denied at edge", "edge-01", in, "10.30.1.4", 3389, "8.8.8.8", model.Deny, "securityRules/deny-rdp", ""},
		{"lone REST rule joins its NSG", "edge-01", in, "10.30.1.4", 80, "8.8.8.8", model.Allow, "securityRules/allow-http-in", ""},
		{"CLI peering list: Connected edge-to-core", "edge-01", in, "10.30.1.4", 5000, "10.20.1.4", model.Allow, "defaultSecurityRules/AllowVnetInBound", ""},
		{"CLI peering list: Initiated edge-to-lab is not a peering", "edge-01", in, "10.30.1.4", 5000, "10.40.0.9", model.Deny, "defaultSecurityRules/DenyAllInBound", ""},
		{"deallocated VM from the REST instance view", "db-01", in, "10.20.2.4", 1433, "10.20.1.4", model.Deny, "", "allocated"},
	} {
		t.Run(f.name, func(t *testing.T) {
			rport := engine.Port(50001) // inbound: a client port; outbound: the service's port
			if f.dir == outb {
				rport = 1433
			}
			res, err := eng.Verify(engine.Flow{VM: f.vm, Direction: f.dir, Protocol: model.TCP,
				LocalIP: ip(f.local), LocalPort: f.lport, RemoteIP: ip(f.remote), RemotePort: rport})
			if f.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), f.errPart) {
					t.Fatalf("err = %v, want one with %q", err, f.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Access != f.access || res.RuleName() != f.rule {
				t.Errorf("got %s %q, want %s %q", res.Access, res.RuleName(), f.access, f.rule)
			}
		})
	}
}

func hasWarning(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}
