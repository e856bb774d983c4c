package server

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"ipflow/fixtures"
	"ipflow/model"
)

// TestLoadEstateUsesConfigLoad: the fixtures are loaded by Config.Load when set (ipflow serve's
// snapshot cache), with the configured paths and size limit, and its errors are the load's; the
// embedded sample needs no loader.
func TestLoadEstateUsesConfigLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "estate.toml")
	if err := os.WriteFile(path, fixtures.Sample()[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	var limits []int64
	cfg := Config{Fixtures: []string{path}, MaxFileSize: 1 << 20, Load: func(paths []string, maxBytes int64) (*model.Environment, error) {
		calls, limits = append(calls, paths), append(limits, maxBytes)
		srcs, err := model.ReadPaths(paths, maxBytes)
		if err != nil {
			return nil, err
		}
		return model.Load(srcs...)
	}}
	est, err := loadEstate(cfg)
	if err != nil || len(calls) != 1 || calls[0][0] != path || limits[0] != 1<<20 {
		t.Fatalf("calls %v limits %v err %v", calls, limits, err)
	}
	if n := len(est.Engine.Environment().VMs); n != len(model.MustLoad(fixtures.Sample()...).VMs) {
		t.Errorf("%d VMs", n)
	}
	failing := errors.New("cannot read estate.toml: gone")
	cfg.Load = func([]string, int64) (*model.Environment, error) { return nil, failing }
	if _, err := loadEstate(cfg); !errors.Is(err, failing) {
		t.Errorf("the loader's error: %v", err)
	}
	cfg.Fixtures = nil
	if est, err := loadEstate(cfg); err != nil || len(est.Engine.Environment().VMs) == 0 {
		t.Errorf("the sample: %v", err)
	}
}
