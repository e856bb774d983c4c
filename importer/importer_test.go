package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readDir reads every *.json file of a testdata folder, named by base name.
func readDir(t testing.TB, dir string) []Input {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []Input
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Input{Name: e.Name(), Data: data})
	}
	return out
}

func mustImport(t testing.TB, ins []Input) *Output {
	t.Helper()
	out, err := Import(ins)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return out
}

// decodeTOML checks that the output is valid TOML and returns it decoded.
func decodeTOML(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := toml.Decode(string(b), &m); err != nil {
		t.Fatalf("output is not valid TOML: %v\n%s", err, b)
	}
	return m
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./importer -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept):\n%s", path, got)
	}
}

func hasWarning(ws []string, parts ...string) bool {
	for _, w := range ws {
		ok := true
		for _, p := range parts {
			if !strings.Contains(w, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestImportCLIEstate imports the CLI-shaped estate in testdata/cli and checks the fixture
// against its golden file and every item that cannot be represented against its warning.
func TestImportCLIEstate(t *testing.T) {
	out := mustImport(t, readDir(t, "testdata/cli"))
	golden(t, "cli.golden.toml", out.TOML)
	m := decodeTOML(t, out.TOML)

	if !bytes.HasPrefix(out.TOML, []byte("# ipflow fixture written by `ipflow import` from:\n#   ServiceTags_Public_20260105.json\n#   asgs.json\n")) {
		t.Errorf("the fixture does not start with a comment naming its files:\n%.300s", out.TOML)
	}
	// Only the service tags the rules use.
	tags := m["service_tags"].(map[string]any)
	if len(tags) != 1 || tags["Storage.WestEurope"] == nil {
		t.Errorf("service_tags = %v, want only Storage.WestEurope", tags)
	}
	// Default rules are never written.
	if bytes.Contains(out.TOML, []byte("AllowVnetInBound")) || bytes.Contains(out.TOML, []byte("65000")) {
		t.Error("a default rule was written to the fixture")
	}
	for _, w := range [][]string{
		{`NSGs are named "shared-nsg" in different resource groups`, `"rg-app:shared-nsg"`, `"rg-net:shared-nsg"`},
		{`rule "odd-prefix"`, `"111"`, "rule skipped"},
		{`rule "allow-monitor"`, `"AzureMonitor"`, "not in the Service Tags file"},
		{`rule "deny-v6-scanners"`, "IPv6"},
		{`VNet "spoke"`, "IPv6 address prefix"},
		{`subnet "app"`, "IPv6 prefix"},
		{`route "v6-branch"`, "IPv6"},
		{`NIC "orphan-nic"`, "not attached to a VM", `ASG "asg-web"`},
		{`NIC "kv-pe.nic.0a1b2c3d"`, "private endpoint"},
		{`IP configuration "ipconfig-v6"`, "IPv6"},
		{`VM "ghost-01"`, `NIC "ghost-01-nic"`, "not exported"},
		{`VM "ghost-01"`, "VM skipped"},
		{`peering "spoke-to-partner"`, `"partner-vnet"`, "not exported", "172.16.0.0/16"},
		{`VNet "hub"`, "GatewaySubnet", "onprem_prefixes"},
		{`service tag "Storage.WestEurope"`, "IPv6 prefix"},
	} {
		if !hasWarning(out.Warnings, w...) {
			t.Errorf("no warning with %q; warnings:\n%s", w, strings.Join(out.Warnings, "\n"))
		}
	}
	for _, w := range out.Warnings {
		if strings.Contains(w, "hub-to-legacy") || strings.Contains(w, "legacy-to-hub") {
			t.Errorf("a Disconnected peering is not a peering and needs no warning: %s", w)
		}
	}
	want := Stats{Files: 7, VNets: 4, Subnets: 6, Peerings: 3, NSGs: 4, Rules: 9, ASGs: 3, VMs: 4, NICs: 5, IPConfigs: 6, ServiceTags: 1}
	if out.Stats != want {
		t.Errorf("stats = %+v, want %+v", out.Stats, want)
	}
}

// TestImportOrderIndependent: the same files in any order give byte-identical TOML and warnings.
func TestImportOrderIndependent(t *testing.T) {
	ins := readDir(t, "testdata/cli")
	first := mustImport(t, ins)
	for i := range len(ins) {
		perm := append(append([]Input{}, ins[i:]...), ins[:i]...)
		for a, b := 0, len(perm)-1; a < b && i%2 == 1; a, b = a+1, b-1 {
			perm[a], perm[b] = perm[b], perm[a]
		}
		got := mustImport(t, perm)
		if !bytes.Equal(got.TOML, first.TOML) {
			t.Fatalf("order %d gives different TOML", i)
		}
		if strings.Join(got.Warnings, "\n") != strings.Join(first.Warnings, "\n") {
			t.Fatalf("order %d gives different warnings", i)
		}
	}
}

// toREST turns Azure CLI output (fields at the top level, resourceGroup on every object) into the
// ARM REST shape (fields under properties, IP spelled IP, lists as {"value": [...]}, no nulls).
func toREST(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, toREST(e))
		}
		return out
	case map[string]any:
		_, hasID := x["id"]
		_, hasType := x["type"]
		_, hasPrimary := x["primary"]
		switch {
		case hasID && len(x) <= 2 && x["resourceGroup"] != nil || hasID && len(x) == 1:
			return map[string]any{"id": x["id"]} // a reference
		case hasID && !hasType && hasPrimary:
			// a VM's NIC reference
			ref := map[string]any{"id": x["id"]}
			if x["primary"] != nil {
				ref["properties"] = map[string]any{"primary": x["primary"]}
			}
			return ref
		case hasID && hasType:
			out := map[string]any{}
			props := map[string]any{}
			for k, val := range x {
				if val == nil || k == "resourceGroup" {
					continue
				}
				switch k {
				case "id", "name", "type", "etag", "location", "tags":
					out[k] = val
				case "powerState":
					props["instanceView"] = map[string]any{"statuses": []any{
						map[string]any{"code": "ProvisioningState/succeeded", "displayStatus": "Provisioning succeeded"},
						map[string]any{"code": "PowerState/" + strings.TrimPrefix(val.(string), "VM "), "displayStatus": val},
					}}
				default:
					k = strings.NewReplacer("IpAddress", "IPAddress", "IpForwarding", "IPForwarding", "IpAllocation", "IPAllocation").Replace(k)
					props[k] = toREST(val)
				}
			}
			out["properties"] = props
			return out
		default:
			out := map[string]any{}
			for k, val := range x {
				if val != nil {
					out[k] = toREST(val)
				}
			}
			return out
		}
	}
	return v
}

// TestImportRESTShapeSameAsCLI: the same estate in the ARM REST shape gives the same fixture.
func TestImportRESTShapeSameAsCLI(t *testing.T) {
	cli := readDir(t, "testdata/cli")
	var rest []Input
	for _, in := range cli {
		if strings.HasPrefix(in.Name, "ServiceTags") {
			rest = append(rest, in)
			continue
		}
		var v any
		if err := json.Unmarshal(in.Data, &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.MarshalIndent(map[string]any{"value": toREST(v)}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"privateIpAddress"`)) || !bytes.Contains(b, []byte(`"properties"`)) {
			t.Fatal("toREST did not convert the shape")
		}
		rest = append(rest, Input{Name: in.Name, Data: b})
	}
	a, b := mustImport(t, cli), mustImport(t, rest)
	if !bytes.Equal(a.TOML, b.TOML) {
		t.Errorf("REST shape gives a different fixture:\n%s", b.TOML)
	}
	if strings.Join(a.Warnings, "\n") != strings.Join(b.Warnings, "\n") {
		t.Errorf("REST shape gives different warnings:\n%s\n--- CLI:\n%s", strings.Join(b.Warnings, "\n"), strings.Join(a.Warnings, "\n"))
	}
}

// TestImportFolder: ExpandPaths reads a folder's *.json files.
func TestImportFolder(t *testing.T) {
	ins, err := ExpandPaths([]string{filepath.Join("testdata", "cli")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 7 || !ins[0].InFolder {
		t.Fatalf("ExpandPaths gave %d inputs", len(ins))
	}
	out := mustImport(t, ins)
	if !bytes.Contains(out.TOML, []byte("#   "+filepath.Join("testdata", "cli", "vnets.json")+"\n")) {
		t.Errorf("header does not name the files:\n%.400s", out.TOML)
	}
	// A folder and a file in it: the file is read once.
	twice, err := ExpandPaths([]string{filepath.Join("testdata", "cli"), filepath.Join("testdata", "cli", "vnets.json")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustImport(t, twice); !bytes.Equal(got.TOML, out.TOML) {
		t.Errorf("a file named twice changes the fixture:\n%.600s", got.TOML)
	}
	if _, err := ExpandPaths([]string{"testdata/no-such-dir"}, 0); err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Errorf("missing path: err = %v", err)
	}
	empty := t.TempDir()
	if _, err := ExpandPaths([]string{empty}, 0); err == nil || !strings.Contains(err.Error(), "no .json files") {
		t.Errorf("empty folder: err = %v", err)
	}
}

const oneNSG = `{
  "name": "nsg1", "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1",
  "type": "Microsoft.Network/networkSecurityGroups",
  "properties": {"securityRules": [{"name": "r1", "properties": {"protocol": "Tcp", "sourceAddressPrefix": "*",
    "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "22", "access": "Allow",
    "priority": 100, "direction": "Inbound"}}]}
}`

// TestFileShapes: a list, a single object, a REST list response, a Resource Graph response, an
// API example, a UTF-8 BOM and UTF-16 (Windows PowerShell's ">") all read the same.
func TestFileShapes(t *testing.T) {
	want := mustImport(t, []Input{{Name: "x.json", Data: []byte(oneNSG)}}).TOML
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	for name, data := range map[string][]byte{
		"array":         []byte("[" + oneNSG + "]"),
		"value":         []byte(`{"value": [` + oneNSG + `]}`),
		"resourceGraph": []byte(`{"count": 1, "data": [` + oneNSG + `], "skip_token": null, "total_records": 1}`),
		"example":       []byte(`{"parameters": {}, "responses": {"200": {"body": ` + oneNSG + `}}}`),
		"bom":           append([]byte{0xEF, 0xBB, 0xBF}, oneNSG...),
		"utf16":         utf16le(oneNSG),
	} {
		got, err := Import([]Input{{Name: "x.json", Data: data}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got.TOML, want) {
			t.Errorf("%s: different fixture:\n%s", name, got.TOML)
		}
	}
	// An empty list is a valid export of nothing.
	out := mustImport(t, []Input{{Name: "asgs.json", Data: []byte("[]\n")}})
	if !hasWarning(out.Warnings, "asgs.json", "no resources") {
		t.Errorf("warnings = %q", out.Warnings)
	}
}

// TestMalformedJSON: malformed or truncated JSON is an error naming the file and the position.
func TestMalformedJSON(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"[\n  {\"name\": \"a\",\n   \"id\": }\n]", "bad.json: line 3, column 10: malformed JSON"},
		{oneNSG[:200], "bad.json: line 4, column"},
		{"[" + oneNSG, "unexpected end of JSON input"},
		{`{"value": [1, 2,]}`, "bad.json: line 1, column 17: malformed JSON"},
		{"[" + oneNSG + "] [" + oneNSG + "]", "two outputs in one file"},
		{"", "bad.json: empty file"},
		{"   \n", "bad.json: empty file"},
		{"nul", "bad.json: line 1"},
	} {
		_, err := Import([]Input{{Name: "bad.json", Data: []byte(tc.data)}})
		var fe *FileError
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: err = %v, want %q", tc.data, err, tc.want)
		}
	}
	// Every bad file is reported, not just the first; good files do not hide them.
	_, err := Import([]Input{{Name: "a.json", Data: []byte("[")}, {Name: "ok.json", Data: []byte(oneNSG)}, {Name: "b.json", Data: []byte("{")}})
	if err == nil || !strings.Contains(err.Error(), "a.json") || !strings.Contains(err.Error(), "b.json") {
		t.Errorf("err = %v", err)
	}
}

// TestNoKnownKind: JSON of no known kind is an error naming the file, or, in a folder, skipped
// with a warning.
func TestNoKnownKind(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"access": "Allow", "ruleName": "Rule1"}`, "IP flow verify result"},
		{`{"results": []}`, "NSG diagnostics"},
		{`[{"name": "d1", "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1", "type": "Microsoft.Compute/disks"}]`, "Microsoft.Compute/disks"},
		{`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": []}`, "ARM template"},
		{`{"hello": "world"}`, "no known kind"},
		{`"just a string"`, "no known kind"},
		{`42`, "no known kind"},
		{`[1, 2, 3]`, "no known kind"},
	} {
		_, err := Import([]Input{{Name: "odd.json", Data: []byte(tc.data)}})
		if err == nil || !strings.Contains(err.Error(), "odd.json: no known kind") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.data, err, tc.want)
		}
		out, err := Import([]Input{{Name: "dir/odd.json", Data: []byte(tc.data), InFolder: true}, {Name: "dir/nsg.json", Data: []byte(oneNSG), InFolder: true}})
		if err != nil {
			t.Errorf("%s in a folder: %v", tc.data, err)
			continue
		}
		if !hasWarning(out.Warnings, "dir/odd.json: no known kind", "skipped") {
			t.Errorf("%s in a folder: warnings = %q", tc.data, out.Warnings)
		}
		if bytes.Contains(out.TOML, []byte("odd.json")) {
			t.Errorf("a skipped file is named in the header")
		}
	}
	// Malformed JSON is an error even in a folder.
	if _, err := Import([]Input{{Name: "dir/bad.json", Data: []byte("{"), InFolder: true}}); err == nil {
		t.Error("malformed JSON in a folder was accepted")
	}
}
