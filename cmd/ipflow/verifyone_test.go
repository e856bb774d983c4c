package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/internal/estategen"
	"ipflow/model"
	"ipflow/tui/effective"
)

// TestVerifyOfOneVMIsTheWholeEstates: verify compiles only the flow's VM; what it prints — the
// verdict and trace as text and as JSON, or the error of a flow it cannot evaluate (a wrong VM
// explained against every VM) — is byte for byte what the engine of the whole estate gives.
func TestVerifyOfOneVMIsTheWholeEstates(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.toml")
	if err := os.WriteFile(gen, estategen.Large(150, 20, 20), 0o644); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(dir, "sample.toml")
	if err := os.WriteFile(sample, fixtures.Sample()[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	verdicts, errs := 0, 0
	for _, path := range []string{sample, gen} {
		data, _ := os.ReadFile(path)
		env := model.MustLoad(model.Source{Name: path, Data: data})
		whole := engine.Compile(env)
		rng := rand.New(rand.NewPCG(uint64(len(env.VMs)), 11))
		for i, f := range randomFlows(env, 80, rng) {
			args := []string{"verify", "-f", path, "--vm", f.VM, "--direction", f.Direction, "--protocol", f.Protocol, "--local", f.Local, "--remote", f.Remote}
			if f.NIC != "" {
				args = append(args, "--nic", f.NIC)
			}
			output := "text"
			if i%2 == 1 {
				output = "json"
			}
			code, out, errOut := runArgs(append(args, "-o", output)...)
			fl, ferrs := f.Parse()
			if len(ferrs) > 0 {
				continue // refused by flag checks before any estate is compiled
			}
			res, err := whole.Verify(fl)
			if err != nil {
				errs++
				if want := fmt.Sprintf("ipflow verify: %v\n", err); code != 2 || errOut != want {
					t.Errorf("%v: exit %d, stderr %q; the whole estate says %q", args, code, errOut, want)
				}
				continue
			}
			verdicts++
			var want bytes.Buffer
			if output == "json" {
				data, _ := res.MarshalJSON()
				want.Write(append(data, '\n'))
			} else {
				res.WriteText(&want)
			}
			if code != 0 || out != want.String() {
				t.Errorf("%v -o %s: exit %d, stderr %q, output differs from the whole estate's:\n%s\nwant:\n%s", args, output, code, errOut, out, want.String())
			}
		}
	}
	if verdicts < 100 || errs == 0 {
		t.Errorf("%d verdicts and %d errors compared", verdicts, errs)
	}
}

// TestRulesOfOneVMIsTheWholeEstates: ipflow rules compiles only the VM it is asked about; the
// effective rules it prints, as text and as JSON, are those of the whole estate's engine, and
// an unknown VM or NIC is explained against the whole estate.
func TestRulesOfOneVMIsTheWholeEstates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gen.toml")
	if err := os.WriteFile(path, estategen.Large(60, 12, 15), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	env := model.MustLoad(model.Source{Name: path, Data: data})
	whole := engine.Compile(env)
	for i, vm := range append(env.VMs, &model.VM{Name: "vm-99x"}) {
		for _, nic := range []string{"", "no-such-nic"} {
			args := []string{"rules", "-f", path, "--vm", vm.Name}
			if nic != "" {
				args = append(args, "--nic", nic)
			}
			output := []string{"text", "json"}[i%2]
			code, out, errOut := runArgs(append(args, "-o", output)...)
			var want bytes.Buffer
			n, err := findNIC(whole, vm.Name, nic)
			if err != nil {
				if wantErr := fmt.Sprintf("ipflow rules: %v\n", err); code != 2 || errOut != wantErr {
					t.Errorf("%v: exit %d, stderr %q; the whole estate says %q", args, code, errOut, wantErr)
				}
				continue
			}
			eff, err := effective.ForNIC(whole, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			if output == "json" {
				data, _ := json.MarshalIndent(rulesJSON(eff), "", "  ")
				fmt.Fprintf(&want, "%s\n", model.EscapeJSON(data))
			} else {
				writeRulesText(&want, eff)
			}
			if code != 0 || out != want.String() {
				t.Errorf("%v -o %s: exit %d, stderr %q; the output differs from the whole estate's", args, output, code, errOut)
			}
		}
	}
}

// TestReachOfOneVMIsTheWholeEstates: ipflow reach compiles only the VM it is asked about and
// names addresses from the whole estate; its text and JSON are byte for byte those of an
// analyzer of the whole estate, for every VM of the sample and of a generated estate, both
// directions, and an unknown VM is explained against them all.
func TestReachOfOneVMIsTheWholeEstates(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.toml")
	if err := os.WriteFile(gen, estategen.Large(40, 10, 12), 0o644); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(dir, "sample.toml")
	if err := os.WriteFile(sample, fixtures.Sample()[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, path := range []string{sample, gen} {
		data, _ := os.ReadFile(path)
		env := model.MustLoad(model.Source{Name: path, Data: data})
		whole := analysis.New(engine.Compile(env))
		names := append(vmNamesOf(env), "no-such-vm")
		for i, vm := range names {
			for _, d := range []model.Direction{model.Inbound, model.Outbound} {
				proto, port := []string{"tcp", "udp", "icmp"}[i%3], []string{"443", "53", ""}[i%3]
				args := []string{"reach", "-f", path, "--vm", vm, "--direction", strings.ToLower(d.String()), "--protocol", proto}
				if port != "" {
					args = append(args, "--port", port)
				}
				output := []string{"text", "json"}[(i+int(d))%2]
				code, out, errOut := runArgs(append(args, "-o", output)...)
				q, err := reachQuery(vm, "", strings.ToLower(d.String()), proto, port)
				if err != nil {
					t.Fatal(err)
				}
				var want, wantErr bytes.Buffer
				wantCode := 0
				if r, err := whole.Reach(q); err != nil {
					wantCode = inputError("reach", err, &wantErr)
				} else {
					wantCode = writeOutput("reach", output, r, &want, &wantErr)
				}
				if code != wantCode || out != want.String() || errOut != wantErr.String() {
					t.Errorf("%v -o %s: exit %d (want %d), stderr %q (want %q); the output differs from the whole estate's: %v", args, output, code, wantCode, errOut, wantErr.String(), out != want.String())
				}
				compared++
			}
		}
	}
	if compared < 90 {
		t.Errorf("only %d answers compared", compared)
	}
}

func vmNamesOf(env *model.Environment) []string {
	var out []string
	for _, vm := range env.VMs {
		out = append(out, vm.Name)
	}
	return out
}
