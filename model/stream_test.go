package model_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
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

// TestHeaderCommentsKeepLines: quotes in a comment after a header ([[asg]] # ”') start no
// string: the lines after it are still known, streamed or not.
func TestHeaderCommentsKeepLines(t *testing.T) {
	for _, q := range []string{"'''", `"""`, `"`, "'"} {
		text := "[[asg]] # " + q + "\nname = \"a\"\n[[asg]]\nname = \"c\"\n[[asg]]\nnam = \"d\"\n"
		src := model.Source{Name: "e.toml", Data: []byte(text)}
		_, err := model.Load(src)
		if err == nil || !strings.Contains(err.Error(), "e.toml:5: asg #3: missing required key name") || !strings.Contains(err.Error(), "e.toml:6: asg #3: unknown key nam") {
			t.Errorf("comment %s: %v", q, err)
		}
		sameAsWhole(t, "comment "+q, 10, src)
	}
	large := strings.ReplaceAll(string(estategen.Large(40, 6, 5)), "[[vm]]\n", "[[vm]] # \"\"\" a VM\n")
	sameAsWhole(t, "commented VM headers", 300, model.Source{Name: "gen.toml", Data: []byte(large)})
}

// parallelRulesEstate is an estate whose NSG rules are read in parallel: nsgs NSGs of rules
// rules each, in two VNets a and b, with ASG x's member in a and y's in b; rule r0 of every NSG
// is written by rule0 (its sides), the others allow one port each.
func parallelRulesEstate(nsgs, rules int, rule0 string) []byte {
	var b strings.Builder
	b.WriteString(`[[vnet]]
name = "a"
address_space = ["10.1.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.1.0.0/24"
[[vnet]]
name = "b"
address_space = ["10.2.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.2.0.0/24"
[[asg]]
name = "x"
[[asg]]
name = "y"
[[asg]]
name = "web-asg"
[[vm]]
name = "va"
  [[vm.nic]]
  name = "va-nic"
  nsg = "n0"
  private_ip = "10.1.0.4"
  subnet = "a/s"
  asgs = ["x", "web-asg"]
[[vm]]
name = "vb"
  [[vm.nic]]
  name = "vb-nic"
  nsg = "n1"
  private_ip = "10.2.0.4"
  subnet = "b/s"
  asgs = ["y"]
`)
	for n := range nsgs {
		fmt.Fprintf(&b, "[[nsg]]\nname = \"n%d\"\n", n)
		for r := range rules {
			fmt.Fprintf(&b, "  [[nsg.rule]]\n  name = \"r%d\"\n  priority = %d\n  direction = \"Inbound\"\n  access = \"Allow\"\n  protocol = \"Tcp\"\n", r, 100+r)
			if r == 0 {
				b.WriteString(rule0)
			} else {
				fmt.Fprintf(&b, "  source = \"*\"\n  destination = \"*\"\n  destination_ports = \"%d\"\n", 1000+r)
			}
		}
	}
	return []byte(b.String())
}

// TestParallelRulesLoseNoErrorAndSuggestInOrder: NSG rules read by several goroutines give
// exactly the sequential reading's errors — a rule with ASGs on both sides in different VNets
// is reported even when read by a worker, and "did you mean" suggestions, which are budgeted,
// are given in reading order, the same on every load and streamed or not.
func TestParallelRulesLoseNoErrorAndSuggestInOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	both := parallelRulesEstate(5, 900, "  source_asgs = [\"x\"]\n  destination_asgs = [\"y\"]\n")
	// Every rule names a misspelt ASG: far more suggestions than the budget allows.
	misspelt := []byte(strings.ReplaceAll(string(parallelRulesEstate(5, 900, "  source = \"*\"\n  destination = \"*\"\n")), "  source = \"*\"\n", "  source_asgs = [\"web-asq\"]\n"))
	load := func(data []byte, size int) string {
		env, err, _ := model.LoadInPieces(size, model.Source{Name: "e.toml", Data: data})
		return loadedAs(t, env, err)
	}
	parallel := load(both, 0)
	if !strings.Contains(parallel, `e.toml:`) || !strings.Contains(parallel, `destination_asgs: asg "y" has its members in vnet "b", but asg "x" (source_asgs) has its members in vnet "a"`) {
		t.Fatalf("the ASG error is lost when rules are read in parallel:\n%.600s", parallel)
	}
	restore := model.SetRulesPerWorker(1 << 30)
	sequentialBoth, sequentialMisspelt := load(both, 0), load(misspelt, 0)
	restore()
	if parallel != sequentialBoth {
		t.Errorf("parallel and sequential reading differ:\n%.600s\n---\n%.600s", parallel, sequentialBoth)
	}
	if !strings.Contains(sequentialMisspelt, `did you mean "web-asg"?`) {
		t.Fatalf("no suggestion:\n%.600s", sequentialMisspelt)
	}
	for i := range 8 {
		if got := load(misspelt, 0); got != sequentialMisspelt {
			t.Fatalf("load %d: suggestions differ from the sequential reading's:\n%.600s\n---\n%.600s", i, got, sequentialMisspelt)
		}
	}
	defer model.SetRulesPerWorker(1)()
	for _, size := range []int{2000, 50000} {
		if got := load(misspelt, size); got != sequentialMisspelt {
			t.Errorf("pieces of %d bytes: the suggestions differ from the sequential reading's", size)
		}
		sameAsWhole(t, "ASGs on both sides", size, model.Source{Name: "e.toml", Data: both})
	}
}
