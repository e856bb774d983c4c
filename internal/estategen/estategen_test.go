package estategen

import (
	"fmt"
	"testing"

	"ipflow/model"
)

// TestLarge: every size loads without errors, with the VMs, NSGs and rules asked for, and without
// warnings when every NSG can be attached.
func TestLarge(t *testing.T) {
	for _, size := range [][3]int{{0, 0, 0}, {1, 1, 1}, {10, 3, 5}, {450, 20, 50}, {3300, 7, 1200}} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			env, err := model.Load(model.Source{Name: "gen.toml", Data: Large(size[0], size[1], size[2])})
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
