package model_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"ipflow/internal/estategen"
	"ipflow/internal/randestate"
	"ipflow/model"
	"ipflow/snapshot"
)

// loadedAs renders what a load returned — the whole environment (through the snapshot codec,
// which writes every field) or every error and warning — so that two loads can be compared.
func loadedAs(t *testing.T, env *model.Environment, err error) string {
	t.Helper()
	if err != nil {
		var le *model.LoadError
		if !errors.As(err, &le) {
			return "error: " + err.Error()
		}
		var b strings.Builder
		for _, is := range le.Errors {
			fmt.Fprintf(&b, "error: %s\n", is)
		}
		for _, is := range le.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", is)
		}
		return b.String()
	}
	data, err := snapshot.Encode(snapshot.Key{}, env)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// sameAsWhole loads srcs from pieces of size bytes and from whole files, fails unless both give
// the same, and says whether the first was streamed.
func sameAsWhole(t *testing.T, what string, size int, srcs ...model.Source) bool {
	t.Helper()
	wholeEnv, wholeErr, _ := model.LoadInPieces(0, srcs...)
	env, err, streamed := model.LoadInPieces(size, srcs...)
	whole, got := loadedAs(t, wholeEnv, wholeErr), loadedAs(t, env, err)
	if whole != got {
		if wholeErr != nil || err != nil {
			t.Fatalf("%s (pieces of %d bytes, streamed %v): the loads differ\nwhole:\n%s\npieces:\n%s", what, size, streamed, whole, got)
		}
		t.Fatalf("%s (pieces of %d bytes, streamed %v): the environments differ", what, size, streamed)
	}
	return streamed
}

// TestStreamedLoadIsWholeLoad: loading a large fixture in pieces, building the model while they
// are decoded, gives exactly what loading it whole gives — the environment, or every error and
// warning with its line — and falls back to the whole load for whatever it does not stream.
func TestStreamedLoadIsWholeLoad(t *testing.T) {
	large := estategen.Large(300, 30, 12)
	for _, size := range []int{1 << 10, 1 << 12, 1 << 15} {
		if !sameAsWhole(t, "generated estate", size, model.Source{Name: "estate.toml", Data: large}) {
			t.Errorf("the generated estate was not streamed in pieces of %d bytes", size)
		}
	}

	// Several files, each in pieces; the kinds spread over them.
	text := string(large)
	at := func(h string) int { return strings.Index(text, "\n"+h+"\n") + 1 }
	nsgs, vms := at("[[nsg]]"), at("[[vm]]")
	files := []model.Source{
		{Name: "vms.toml", Data: []byte(text[vms:])},
		{Name: "net.toml", Data: []byte(text[:nsgs])},
		{Name: "nsgs.toml", Data: []byte(text[nsgs:vms])},
	}
	if !sameAsWhole(t, "three files", 1<<12, files...) {
		t.Error("three files were not streamed")
	}

	// Random estates (the reference test's), cut small.
	streamed := 0
	for seed := range uint64(60) {
		src := model.Source{Name: "random.toml", Data: []byte(randestate.Estate(rand.New(rand.NewPCG(seed, 7))))}
		if sameAsWhole(t, fmt.Sprintf("random estate %d", seed), 600, src) {
			streamed++
		}
	}
	if streamed < 50 {
		t.Errorf("only %d of 60 random estates were streamed", streamed)
	}
}

// TestStreamedLoadOfBrokenFixtures: fixtures broken in every way a piece could hide — a line
// lost or repeated, a header or a table moved to another piece, an inline array continued by a
// header, a header written unusually, a syntax error, a nested array — give the same errors,
// warnings and lines from pieces as from whole files.
func TestStreamedLoadOfBrokenFixtures(t *testing.T) {
	base := strings.Split(string(estategen.Large(40, 6, 5)), "\n")
	inserts := []string{
		"[[vm]]\nname = \"extra\"",
		"[[vm.nic]]\nname = \"stray\"\nprivate_ip = \"10.1.0.250\"\nsubnet = \"spoke-1/snet-0\"",
		"[environment]\nname = \"late\"",
		"[[ vm ]]\nname = \"spaced\"",
		"[[asg]]\nname = \"asg-0-0\"",
		"[[nsg]]\nname = \"nsg-0\"",
		"[vm.extra]\nx = 1",
		"source = [\n  [\"10.0.0.0/8\"],\n]",
		"name = \"unterminated",
		"[[\"vm\"]]\nname = \"quoted\"",
		"[[rule]]\nname = \"top-level rule\"",
		"[[admin_rule]]\nname = \"late-admin\"\nvnets = [\"hub\"]\npriority = 1\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"*\"\nsource = \"*\"\ndestination = \"*\"",
	}
	streamed, whole := 0, 0
	rng := rand.New(rand.NewPCG(3, 9))
	for i := range 300 {
		lines := append([]string(nil), base...)
		n := rng.IntN(len(lines))
		what := ""
		switch k := rng.IntN(5); k {
		case 0:
			what = fmt.Sprintf("line %d removed", n+1)
			lines = append(lines[:n], lines[n+1:]...)
		case 1:
			what = fmt.Sprintf("line %d repeated", n+1)
			lines = append(lines[:n+1], lines[n:]...)
		case 2:
			m := rng.IntN(len(lines))
			what = fmt.Sprintf("lines %d and %d swapped", n+1, m+1)
			lines[n], lines[m] = lines[m], lines[n]
		default:
			ins := inserts[rng.IntN(len(inserts))]
			what = fmt.Sprintf("%q inserted at line %d", ins, n+1)
			lines = append(lines[:n], append([]string{ins}, lines[n:]...)...)
		}
		if i%50 == 0 {
			lines = append([]string{"vm = [{ name = \"inline\" }]"}, lines...)
			what += ", an inline vm array first"
		}
		src := model.Source{Name: "broken.toml", Data: []byte(strings.Join(lines, "\n"))}
		if sameAsWhole(t, what, 700, src) {
			streamed++
		} else {
			whole++
		}
	}
	if streamed == 0 || whole == 0 {
		t.Errorf("streamed %d, fell back %d: both paths must be tried", streamed, whole)
	}
}

// TestStreamedLoadKeepsPositions: messages about tables in later pieces carry their file's
// line, not the piece's, and count tables across pieces (vm #N).
func TestStreamedLoadKeepsPositions(t *testing.T) {
	text := string(estategen.Large(60, 6, 5))
	last := strings.LastIndex(text, "\n[[vm]]\nname = ")
	text = text[:last+1] + "[[vm]]\npower_state = \"running\"\n" + text[last+1:]
	line := strings.Count(text[:last+1], "\n") + 1
	_, err, streamed := model.LoadInPieces(1<<10, model.Source{Name: "e.toml", Data: []byte(text)})
	if !streamed {
		t.Fatal("not streamed")
	}
	want := fmt.Sprintf("e.toml:%d: vm #60: missing required key name", line)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if !bytes.Contains([]byte(text), []byte("power_state")) {
		t.Fatal("fixture not changed")
	}
}

// FuzzStreamedLoad: whatever the text, loading it from small pieces gives what loading it whole
// gives.
func FuzzStreamedLoad(f *testing.F) {
	f.Add(estategen.Large(6, 3, 3), 300)
	f.Add([]byte("[[vm]]\nname = \"a\"\n[[nsg]]\nname = \"n\"\n[[vm.nic]]\nname = \"x\"\n"), 10)
	f.Add([]byte("vm = [{ name = \"a\" }]\n[[nsg]]\nname = \"n\"\n[[vm]]\nname = \"b\"\n"), 10)
	f.Add([]byte("[[asg]]\nname = \"a\"\n[[nsg]]\nname = \"n\"\n  [[nsg.rule]]\n  name = \"r\"\n[[asg]]\nname = \"b\"\n"), 20)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		if size < 1 || size > 1<<16 {
			return
		}
		sameAsWhole(t, "fuzzed text", size, model.Source{Name: "f.toml", Data: data})
	})
}
