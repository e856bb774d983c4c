package importer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"ipflow/importer"
	"ipflow/model"

	"github.com/BurntSushi/toml"
)

// FuzzImport: no input makes Import panic; the output is deterministic; and whatever it imports
// is a fixture the model loads without errors (the importer never writes what ipflow rejects).
//
//	go test -run=^$ -fuzz=FuzzImport -fuzztime=2m -fuzzminimizetime=3s ./importer
//
// (without -fuzzminimizetime, minimising each new input of the large seeds stalls the run).
func FuzzImport(f *testing.F) {
	for _, dir := range []string{filepath.Join("testdata"), filepath.Join("testdata", "cli"),
		filepath.Join("testdata", "samples")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	for _, s := range []string{
		`[]`, `{}`, `{"value": []}`, `[{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkSecurityGroups/n/securityRules/x"}]`,
		`{"responses": {"200": {"body": {"responses": {"200": {"body": []}}}}}}`,
		`{"values": [{"name": "Storage", "properties": {"addressPrefixes": ["1.2.3.0/24", "::/0"]}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ins := []importer.Input{{Name: "in.json", Data: data}}
		out, err := importer.Import(ins)
		if err != nil {
			return
		}
		again, err := importer.Import(ins)
		if err != nil || !bytes.Equal(out.TOML, again.TOML) {
			t.Fatalf("not deterministic: %v", err)
		}
		var m map[string]any
		if _, err := toml.Decode(string(out.TOML), &m); err != nil {
			t.Fatalf("invalid TOML: %v\n%s", err, out.TOML)
		}
		if _, err := model.Load(model.Source{Name: "env.toml", Data: out.TOML}); err != nil {
			t.Fatalf("the model rejects the imported fixture: %v\n%s", err, out.TOML)
		}
	})
}
