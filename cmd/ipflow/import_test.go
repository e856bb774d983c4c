package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipflow/model"
)

var importTestdata = filepath.Join("..", "..", "importer", "testdata", "cli")

func runImportT(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = runImport(args, &o, &e)
	return code, o.String(), e.String()
}

func TestImportCommandWritesFixture(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "env.toml")
	files, _ := filepath.Glob(filepath.Join(importTestdata, "*.json"))
	if len(files) == 0 {
		t.Fatal("no test data")
	}
	// Files in any order, -o at the end as the README shows it.
	args := append([]string{}, files[3:]...)
	args = append(args, files[:3]...)
	args = append(args, "-o", out)
	code, stdout, stderr := runImportT(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("with -o, stdout should be empty: %q", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("# ipflow fixture written by `ipflow import` from:")) {
		t.Errorf("fixture starts with %.80q", data)
	}
	if _, err := model.Load(model.Source{Name: out, Data: data}); err != nil {
		t.Fatalf("the written fixture does not load: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	warnings := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "warning: ") {
			warnings++
		}
	}
	if warnings == 0 || !strings.Contains(lines[len(lines)-1], "4 VNets") || !strings.Contains(lines[len(lines)-1], "to "+out) {
		t.Errorf("stderr:\n%s", stderr)
	}

	// Without -o the fixture goes to stdout, byte-identical; a folder works as well.
	code, stdout, _ = runImportT(t, importTestdata)
	if code != 0 || !strings.Contains(stdout, "[[vm]]") {
		t.Fatalf("exit %d, stdout %.200q", code, stdout)
	}
	code, stdout2, _ := runImportT(t, files...)
	if code != 0 {
		t.Fatal(code)
	}
	if stdout2 != string(data) {
		t.Error("stdout and -o differ for the same files in another order")
	}
}

func TestImportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "nics.json")
	os.WriteFile(bad, []byte("[\n  {\"name\": \"nic\",\n"), 0o644)
	odd := filepath.Join(dir, "diag.json")
	os.WriteFile(odd, []byte(`{"results": []}`), 0o644)
	out := filepath.Join(dir, "env.toml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{bad, "-o", out}, bad + ": line 3, column 1: malformed JSON: unexpected end of JSON input"},
		{[]string{odd}, odd + ": no known kind: it looks like Network Watcher NSG diagnostics output"},
		{[]string{filepath.Join(dir, "missing.json")}, "missing.json: no such file or directory"},
		{[]string{}, "no input files"},
		{[]string{bad, "-o"}, "-o needs a file name"},
		{[]string{bad, "--frobnicate"}, "unknown flag --frobnicate"},
		{[]string{bad, "-o", bad}, "would overwrite an input file"},
	} {
		code, stdout, stderr := runImportT(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
			t.Errorf("%q: %s", tc.args, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a failed import wrote the output file")
	}
	// A folder with an odd file: skipped with a warning, the rest imported.
	os.Remove(bad)
	os.WriteFile(filepath.Join(dir, "nsg.json"), []byte(`{"name": "n", "type": "Microsoft.Network/networkSecurityGroups", "securityRules": []}`), 0o644)
	code, stdout, stderr := runImportT(t, dir)
	if code != 0 || !strings.Contains(stderr, "warning: "+odd+": no known kind") || !strings.Contains(stdout, `name = "n"`) {
		t.Errorf("folder: exit %d\n%s\n%s", code, stderr, stdout)
	}
}

func TestImportCommandHelp(t *testing.T) {
	for _, a := range []string{"-h", "--help"} {
		code, stdout, _ := runImportT(t, a)
		if code != 0 || !strings.Contains(stdout, "az vm list -d -o json > vms.json") || !strings.Contains(stdout, "-o FILE") {
			t.Errorf("%s: exit %d\n%s", a, code, stdout)
		}
	}
}

func TestImportCommandEscapesNames(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "nsg.json")
	os.WriteFile(f, []byte(`{"name": "evil\u001b[2Jnsg", "type": "Microsoft.Network/networkSecurityGroups",
		"securityRules": [{"name": "r\u001b]0;x\u0007", "priority": 100, "direction": "Inbound", "access": "Allow",
		"protocol": "Tcp", "sourceAddressPrefix": "bad value", "destinationAddressPrefix": "*", "destinationPortRange": "22"}]}`), 0o644)
	code, stdout, stderr := runImportT(t, f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(stderr+stdout, "\x1b\x07") {
		t.Errorf("an escape sequence reached the terminal:\n%q\n%q", stderr, stdout)
	}
}
