package model

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestGenerateLarge(t *testing.T) {
	for _, size := range [][3]int{{0, 0, 0}, {1, 1, 1}, {10, 3, 5}, {450, 20, 50}, {3300, 7, 1200}} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			env, err := Load(Source{Name: "gen.toml", Data: GenerateLarge(size[0], size[1], size[2])})
			if err != nil {
				t.Fatal(err)
			}
			if len(env.VMs) != size[0] || len(env.NSGs) != size[1] {
				t.Errorf("%d VMs, %d NSGs", len(env.VMs), len(env.NSGs))
			}
			for _, g := range env.NSGs {
				if len(g.Rules) != min(size[2], 1000) {
					t.Errorf("nsg %s has %d rules", g.Name, len(g.Rules))
				}
			}
			if size[0] >= size[1] && len(env.Warnings) != 0 {
				t.Errorf("warnings: %v", env.Warnings[0])
			}
		})
	}
}

// BenchmarkLoad10k loads (decodes, validates and links) a generated environment of 10,000 VMs
// and 2,000 NSGs of 50 rules each (about 20 MB of TOML).
func BenchmarkLoad10k(b *testing.B) {
	data := GenerateLarge(10000, 2000, 50)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := Load(Source{Name: "large.toml", Data: data})
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
	data := string(GenerateLarge(200, 40, 120))
	// Sprinkle errors and warnings over many NSGs.
	data = strings.ReplaceAll(data, "priority = 105\n", "priority = 99\n")
	data = strings.ReplaceAll(data, "name = \"rule-7\"\n", "name = \"rule 7\"\n")
	data = strings.ReplaceAll(data, "destination_ports = \"1012\"", "destination_ports = \"70000\"")
	data = strings.ReplaceAll(data, "source = \"Internet\"\n  destination = \"10.", "source = \"Internt\"\n  destination = \"10.")
	load := func() string {
		_, err := Load(Source{Name: "gen.toml", Data: []byte(data)})
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("err = %v", err)
		}
		return strings.Join(issueStrings(le.Errors), "\n") + "\n--\n" + strings.Join(issueStrings(le.Warnings), "\n")
	}
	parallel := load()
	defer func(n int) { rulesPerWorker = n }(rulesPerWorker)
	rulesPerWorker = 1 << 30
	sequential := load()
	if parallel != sequential {
		t.Errorf("parallel and sequential differ:\n%s\n====\n%s", parallel, sequential)
	}
	if n := strings.Count(parallel, "\n"); n < 100 {
		t.Errorf("only %d issues:\n%s", n, parallel)
	}
}
