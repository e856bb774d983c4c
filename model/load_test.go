package model

import (
	"os"
	"testing"
)

func TestLoadSpecExample(t *testing.T) {
	data, err := os.ReadFile("testdata/spec-example.toml")
	if err != nil {
		t.Fatal(err)
	}
	env, err := Load(Source{Name: "spec.toml", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if env.Name != "contoso-prod" || len(env.VNets) != 2 || len(env.NSGs) != 2 || len(env.VMs) != 2 || len(env.AdminRules) != 1 {
		t.Fatalf("unexpected environment: %+v", env)
	}
	if len(env.Warnings) != 0 {
		t.Errorf("warnings: %v", env.Warnings)
	}
}
