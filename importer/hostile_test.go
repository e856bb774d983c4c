package importer_test

import (
	"strings"
	"testing"
	"time"

	"ipflow/importer"
)

// TestDuplicateKeys: a key given twice in one object, exactly or in another case, at any depth or
// in an envelope, fails the file with its line and column and both values; nothing is chosen
// silently.
func TestDuplicateKeys(t *testing.T) {
	for name, c := range map[string]struct{ json, want string }{
		"a rule's port in two cases": {`[{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkSecurityGroups/n", "name": "n",
 "securityRules": [{"name": "a", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
 "destinationPortRange": "443", "DestinationPortRange": "*"}]}]`,
			`in.json: line 3, column 33: key "destinationPortRange" is given twice in one object ("443", then "*" as "DestinationPortRange"); Azure never repeats a key, and ipflow will not guess which value is meant`},
		"a name three times": {`{"type": "Microsoft.Network/applicationSecurityGroups", "name": "a", "name": "b", "name": "c"}`,
			`in.json: line 1, column 70: key "name" is given twice in one object ("a", then "b"); Azure never repeats a key`},
		"an envelope's value twice": {`{"value": [], "Value": [{"name": "x"}]}`,
			`in.json: line 1, column 15: key "value" is given twice in one object ([], then [{"name": "x"}] as "Value")`},
		"escaped keys are keys": {`[{"name": "a", "n\u0061me": "b"}]`, `line 1, column 16: key "name" is given twice in one object ("a", then "b"); Azure`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := importer.Import([]importer.Input{{Name: "in.json", Data: []byte(c.json)}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant %s", err, c.want)
			}
		})
	}
	// The same key in different objects is not a duplicate.
	if _, err := importer.Import([]importer.Input{{Name: "in.json", Data: []byte(`[{"name": "a", "type": "Microsoft.Network/applicationSecurityGroups", "tags": {"name": "x"}}]`)}}); err != nil {
		t.Errorf("nested objects: %v", err)
	}
}

// TestSmallerImportFixes: a field of the wrong type is a warning; a NIC listed by two VMs goes to
// the one it names.
func TestSmallerImportFixes(t *testing.T) {
	files := baseEstate()
	files["vnets.json"] = []obj{vnet("rg", "v1", "10.0.0.0/16", subnet("rg", "v1", "s1", "10.0.1.0/24", nsgID("rg", "n1"))), {
		"id": vnetID("rg", "v9"), "name": "v9", "addressSpace": obj{"addressPrefixes": []string{"10.9.0.0/16"}}, "subnets": "nope"}}
	files["vms.json"] = []obj{vm("rg", "vm0", "VM running", nicID("rg", "nic1")), vm("rg", "vm1", "VM running", nicID("rg", "nic1"))}
	out, env := run(t, files)
	want(t, out.Warnings, `VNet "v9" (rg): field "subnets" is a JSON string where Azure writes an array; ignored`,
		`VM "vm1" (rg): its NIC "nic1" is also listed by VM "vm0"; it goes to "vm1", the VM the NIC names`)
	if vm1 := findVM(env, "vm1"); vm1 == nil || len(vm1.NICs) != 1 {
		t.Errorf("vm1: %+v\n%s", vm1, out.TOML)
	}
	if findVM(env, "vm0") != nil {
		t.Errorf("vm0 kept a NIC that names vm1:\n%s", out.TOML)
	}
}

// TestImportEscapesControls: C1 and bidi controls in names and IDs are written as \u escapes in
// TOML strings and escaped in the resource-ID comments; the model reads the names back unchanged.
func TestImportEscapesControls(t *testing.T) {
	const evil = "a\u202eb\u009bc\u2066d\u007fe"
	files := baseEstate()
	files["nsgs.json"] = []obj{nsg("rg"+evil, "n1"+evil), nsg("rg", "n1")}
	out, env := run(t, files)
	text := string(out.TOML)
	for _, r := range []rune{0x202e, 0x9b, 0x2066, 0x7f} {
		if strings.ContainsRune(text, r) {
			t.Fatalf("raw %U in the fixture:\n%s", r, text)
		}
	}
	if !strings.Contains(text, `name = "n1a\u202Eb\u009Bc\u2066d\u007Fe"`) || !strings.Contains(text, `rga\u202eb\u009bc\u2066d\x7fe`) {
		t.Errorf("not escaped as expected:\n%s", text)
	}
	found := false
	for _, g := range env.NSGs {
		found = found || g.Name == "n1"+evil
	}
	if !found {
		t.Errorf("the name does not round-trip:\n%s", text)
	}
}

// TestDuplicateKeysFold: keys are matched as encoding/json matches them, in big objects too (the
// Kelvin sign folds to k, the long s to s).
func TestDuplicateKeysFold(t *testing.T) {
	var b strings.Builder
	b.WriteString(`[{"type": "Microsoft.Network/applicationSecurityGroups"`)
	for i := range 20 {
		b.WriteString(`, "k` + string(rune('a'+i)) + `": 1`)
	}
	b.WriteString(`, "ka": 2, "name": "x", "` + "\u212a" + `b": 3, "ſ": 4, "S": 5}]`)
	_, err := importer.Import([]importer.Input{{Name: "in.json", Data: []byte(b.String())}})
	if err == nil || !strings.Contains(err.Error(), `key "ka" is given twice in one object (1, then 2)`) {
		t.Errorf("err = %v", err)
	}
	_, err = importer.Import([]importer.Input{{Name: "in.json", Data: []byte(strings.Replace(b.String(), `"ka": 2, `, "", 1))}})
	if err == nil || !strings.Contains(err.Error(), `key "kb" is given twice in one object (1, then 3 as "`+"\u212a"+`b")`) {
		t.Errorf("err = %v", err)
	}
}

// TestDeepJSON: deeply nested JSON is refused quickly, whatever its shape.
func TestDeepJSON(t *testing.T) {
	for _, doc := range []string{
		"[" + strings.Repeat(`{"a":`, 200000) + "1" + strings.Repeat("}", 200000) + "]",
		"[" + strings.Repeat("[", 300000) + strings.Repeat("]", 300000) + "]",
		strings.Repeat(`{"value":`, 100000) + "[]" + strings.Repeat("}", 100000),
	} {
		start := time.Now()
		_, err := importer.Import([]importer.Input{{Name: "in.json", Data: []byte(doc)}})
		if err == nil {
			t.Errorf("%.20s…: imported", doc)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%.20s…: %v", doc, d)
		}
	}
}
