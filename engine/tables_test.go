package engine

import (
	"reflect"
	"runtime"
	"testing"

	"ipflow/internal/estategen"
	"ipflow/model"
)

// TestParallelTablesAreSequentialTables: the NSG tables compiled by several goroutines (each
// with its own cache of ASG unions) are exactly those compiled one by one as the VMs need them,
// and there are tables for the same NSGs.
func TestParallelTablesAreSequentialTables(t *testing.T) {
	env := model.MustLoad(model.Source{Name: "e.toml", Data: estategen.Large(400, 120, 12)})
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	old := tablesPerWorker
	defer func() { tablesPerWorker = old }()
	tablesPerWorker = 1
	par := Compile(env)
	tablesPerWorker = 0
	seq := Compile(env)
	if len(par.tables) != len(seq.tables) || len(par.tables) == 0 {
		t.Fatalf("%d tables in parallel, %d one by one", len(par.tables), len(seq.tables))
	}
	asg := 0
	for g, tp := range par.tables {
		ts, ok := seq.tables[g]
		if !ok || !reflect.DeepEqual(tp, ts) {
			t.Fatalf("nsg %q: the tables differ", g.Name)
		}
		if tp.hasASG() {
			asg++
		}
	}
	if asg == 0 {
		t.Error("no table has ASG rules: the unions were not tried")
	}
}
