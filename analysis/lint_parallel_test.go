package analysis_test

import (
	"fmt"
	"reflect"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/internal/estategen"
	"ipflow/model"
)

// Lint's findings, their order and every rule they name are the same on one worker, one
// job at a time, as on several workers in batches of any size.
func TestLintParallelEqualsSequential(t *testing.T) {
	envs := append(randomEstates(t, 24), sample(t), loadFile(t, "testdata/lint.toml"))
	large, err := model.Load(model.Source{Name: "large.toml", Data: estategen.Large(400, 60, 12)})
	if err != nil {
		t.Fatal(err)
	}
	envs = append(envs, large)
	for i, env := range envs {
		a := analysis.New(engine.Compile(env))
		want := a.LintWith(1, 1)
		if len(want) == 0 && i == len(envs)-1 {
			t.Fatal("the generated estate has no findings: the comparison proves nothing")
		}
		for _, c := range []struct{ workers, batch int }{{1, 64}, {2, 2}, {3, 7}, {4, 1000}} {
			got := a.LintWith(c.workers, c.batch)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("estate %d, %d workers, batches of %d: %s", i, c.workers, c.batch, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(got, want analysis.Findings) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("finding %d: got %s %s %q, want %s %s %q", i, got[i].Kind, got[i].Subject, got[i].Message, want[i].Kind, want[i].Subject, want[i].Message)
		}
	}
	return fmt.Sprintf("got %d findings, want %d", len(got), len(want))
}
