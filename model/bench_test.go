package model_test

import (
	"errors"
	"fmt"
	"ipflow/internal/estategen"
	"ipflow/model"
	"strings"
	"testing"
)

// BenchmarkLoad10k loads (decodes, validates and links) a generated environment of 10,000 VMs
// and 2,000 NSGs of 50 rules each (about 20 MB of TOML).
func BenchmarkLoad10k(b *testing.B) {
	data := estategen.Large(10000, 2000, 50)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := model.Load(model.Source{Name: "large.toml", Data: data})
		if err != nil {
			b.Fatal(err)
		}
		if len(env.VMs) != 10000 {
			b.Fatalf("%d VMs", len(env.VMs))
		}
	}
}

// TestParallelRulesMatchSequential: reading NSG rules in parallel reports exactly what reading
// them sequentially reports.
func TestParallelRulesMatchSequential(t *testing.T) {
	data := string(estategen.Large(200, 40, 120))
	// Sprinkle errors and warnings over many NSGs.
	data = strings.ReplaceAll(data, "priority = 105\n", "priority = 99\n")
	data = strings.ReplaceAll(data, "name = \"rule-7\"\n", "name = \"rule 7\"\n")
	data = strings.ReplaceAll(data, "destination_ports = \"1012\"", "destination_ports = \"70000\"")
	data = strings.ReplaceAll(data, "source = \"Internet\"\n  destination = \"10.", "source = \"Internt\"\n  destination = \"10.")
	load := func() string {
		_, err := model.Load(model.Source{Name: "gen.toml", Data: []byte(data)})
		var le *model.LoadError
		if !errors.As(err, &le) {
			t.Fatalf("err = %v", err)
		}
		return le.Error() + "\n--\n" + fmt.Sprint(le.Warnings)
	}
	parallel := load()
	defer model.SetRulesPerWorker(1 << 30)()
	sequential := load()
	if parallel != sequential {
		t.Errorf("parallel and sequential differ:\n%s\n====\n%s", parallel, sequential)
	}
	if n := strings.Count(parallel, "\n"); n < 100 {
		t.Errorf("only %d issues:\n%s", n, parallel)
	}
}
