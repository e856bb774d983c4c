package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"ipflow/engine"
	"ipflow/flows"
	"ipflow/model"
	"ipflow/whatif"
)

// traceLines is how many lines of the evaluation a failed flow shows.
const traceLines = 8

// runTest is ipflow test: flows files as tests of the estate, or --record to write them with
// today's verdicts. Exit 0 when every flow passes, 1 when any fails, 2 on errors.
func runTest(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("test")
	var paths pathList
	var output, junit string
	var record bool
	var wi whatIfFlag
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	wi.register(fs)
	fs.StringVar(&output, "o", "", "output: text or json; with --record, the file to write")
	fs.StringVar(&output, "output", "", "output: text or json; with --record, the file to write")
	fs.StringVar(&junit, "junit", "", "also write JUnit XML to this file")
	fs.BoolVar(&record, "record", false, "write the flows with expect, rule and nsg from today's verdicts")
	files, code, done := parseInterspersed(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "ipflow test: name a flows file (or - for stdin); run 'ipflow test -h' for usage")
		return 2
	}
	if junit != "" && c.served != nil {
		fmt.Fprintln(stderr, "ipflow test: --junit writes a file, which is not available over ssh; use -o json")
		return 2
	}
	if record && junit != "" {
		fmt.Fprintln(stderr, "ipflow test: --junit reports a test run; --record writes flows and runs no test")
		return 2
	}
	if !record {
		if output == "" {
			output = "text"
		}
		if output = strings.ToLower(output); output != "text" && output != "json" {
			fmt.Fprintf(stderr, "ipflow test: -o %s: must be text or json (with --record, -o names the file to write)\n", quote(output))
			return 2
		}
	}
	if slices.Contains(files, "-") && slices.Contains(wi.files, "-") {
		fmt.Fprintln(stderr, "ipflow test: the flows file and the --what-if change set cannot both come from stdin (-)")
		return 2
	}
	srcs, err := readFlowsFiles(c, files)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow test: %v\n", err)
		return 2
	}
	// The flows files are read before the estate is loaded: their own errors come first.
	ff, ferr := flows.Load(record, srcs...)
	// Only the VMs the flows name are compiled (all of them when one is unknown, or with a
	// what-if, which is checked against the whole estate).
	var only []string
	if ff != nil && len(wi.files) == 0 {
		for _, fl := range ff.Flows {
			only = append(only, fl.Flow.VM)
		}
	}
	e, code := c.estateFor("test", paths, only)
	if e == nil {
		if ferr != nil {
			reportIssues(stderr, ferr)
		}
		return code
	}
	base := e.Environment()
	e, set, code := wi.apply(c, "test", e) // test a change before making it
	if e == nil {
		if ferr != nil {
			reportIssues(stderr, ferr)
		}
		return code
	}
	if err := ff.Check(e, base); err != nil {
		return reportIssues(stderr, err)
	}
	outcomes, err := ff.Run(e)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow test: %v\n", err)
		return 2
	}
	for _, o := range outcomes {
		c.told(o.Result)
	}
	if record {
		return writeRecord(c, outcomes, output, set)
	}
	failed := 0
	for _, o := range outcomes {
		if !o.Pass {
			failed++
		}
	}
	if junit != "" {
		if err := writeJUnit(junit, outcomes, set); err != nil {
			fmt.Fprintf(stderr, "ipflow test: --junit: %v\n", err)
			return 2
		}
	}
	if output == "json" {
		data, err := testJSON(outcomes, failed)
		if err != nil {
			fmt.Fprintf(stderr, "ipflow test: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", withWhatIf(data, set))
	} else {
		fmt.Fprint(stdout, whatIfLine(set))
		writeTestText(stdout, outcomes, failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// parseInterspersed parses flags and positional arguments in any order (flows files may come
// before -o or --junit). A lone - is an argument: stdin.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	for {
		if err := fs.Parse(args); err != nil {
			code, done = parseFlags(fs, args, stdout, stderr) // reports the error as every command does
			return nil, code, done
		}
		if fs.NArg() == 0 {
			return pos, 0, false
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// maxFlowsFile bounds a flows file read (stdin has no size to check first).
const maxFlowsFile = 64 << 20

// readFlowsFiles reads the named flows files; - is stdin (once).
func readFlowsFiles(c *invocation, names []string) ([]model.Source, error) {
	var srcs []model.Source
	usedStdin := false
	for _, n := range names {
		name := n
		if n == "-" {
			if usedStdin {
				return nil, errors.New("- (stdin) is named twice")
			}
			usedStdin, name = true, "<stdin>"
		}
		f, err := c.open("test", n)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("cannot read %s: %v", model.Printable(n), pe.Err)
			}
			return nil, err
		}
		data, err := c.readInput(f, name, maxFlowsFile)
		f.Close()
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, model.Source{Name: name, Data: data})
	}
	return srcs, nil
}

// reportIssues prints a flows file's errors, one per line, and returns exit code 2.
func reportIssues(stderr io.Writer, err error) int {
	var le *model.LoadError
	if !errors.As(err, &le) {
		fmt.Fprintf(stderr, "ipflow test: %v\n", err)
		return 2
	}
	for _, is := range le.Errors {
		fmt.Fprintf(stderr, "error: %s\n", is)
	}
	fmt.Fprintf(stderr, "ipflow test: %d error(s) in the flows; nothing was tested\n", len(le.Errors))
	return 2
}

func writeRecord(c *invocation, outcomes []flows.Outcome, path string, set *whatif.Set) int {
	stderr := c.stderr
	if set != nil {
		fmt.Fprint(stderr, whatIfLine(set)) // the verdicts recorded are those with the change
	}
	data := flows.Record(outcomes)
	if path == "" || path == "-" {
		if _, err := c.stdout.Write(data); err != nil {
			fmt.Fprintf(stderr, "ipflow test --record: %v\n", err)
			return 2
		}
		return 0
	}
	if c.served != nil {
		fmt.Fprintln(stderr, "ipflow test --record: over ssh the recording goes to standard output; leave out -o")
		return 2
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Fprintf(stderr, "ipflow test --record: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "ipflow test --record: wrote %d flow(s) to %s\n", len(outcomes), model.Printable(path))
	return 0
}

// verdictLine is "Access allowed by securityRules/allow-https (NSG web-nic-nsg on
// networkInterface/web-01-nic)".
func verdictLine(r *engine.Result) string {
	if r.Rule == nil {
		return r.Headline() + ": no rule applies, so every level allows"
	}
	where := "security admin rules on " + model.Printable(r.Layer.AppliedTo)
	if r.Layer.NSG != nil {
		where = "NSG " + model.Printable(r.Layer.NSG.Name) + " on " + model.Printable(r.Layer.AppliedTo)
	}
	return fmt.Sprintf("%s by %s (%s)", r.Headline(), model.Printable(r.RuleName()), where)
}

// failureDetail is what a failed flow shows under its line: where it is written, what was
// expected, the flow, and the first lines of the evaluation.
func failureDetail(o flows.Outcome) []string {
	lines := []string{
		fmt.Sprintf("%s: %s", model.Printable(o.Pos.String()), o.Why),
		fmt.Sprintf("Flow: %s on %s", o.Result.Flow, o.Result.Target()),
	}
	var b strings.Builder
	o.Result.WriteText(&b) // a strings.Builder does not fail
	text := b.String()
	if i := strings.Index(text, "Evaluation\n"); i >= 0 {
		ev := strings.Split(strings.TrimRight(text[i:], "\n"), "\n")
		if len(ev) > traceLines+1 {
			ev = append(ev[:traceLines+1], "  …")
		}
		lines = append(lines, ev...)
	}
	return lines
}

func writeTestText(w io.Writer, outcomes []flows.Outcome, failed int) {
	for _, o := range outcomes {
		mark := "PASS"
		if !o.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s  %s: %s\n", mark, model.Printable(o.Name), verdictLine(o.Result))
		if !o.Pass {
			for _, l := range failureDetail(o) {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", len(outcomes)-failed, failed)
}

type testJSONFlow struct {
	Name   string          `json:"name"`
	File   string          `json:"file"`
	Line   int             `json:"line"`
	Pass   bool            `json:"pass"`
	Expect string          `json:"expect,omitempty"`
	Rule   string          `json:"rule,omitempty"`
	NSG    string          `json:"nsg,omitempty"`
	Why    string          `json:"why,omitempty"`
	Result json.RawMessage `json:"result"`
}

// testJSON is the run for scripts: each flow with what it expected and verify -o json's result.
func testJSON(outcomes []flows.Outcome, failed int) ([]byte, error) {
	out := struct {
		Passed int            `json:"passed"`
		Failed int            `json:"failed"`
		Flows  []testJSONFlow `json:"flows"`
	}{len(outcomes) - failed, failed, make([]testJSONFlow, 0, len(outcomes))}
	for _, o := range outcomes {
		res, err := o.Result.MarshalJSON()
		if err != nil {
			return nil, err
		}
		out.Flows = append(out.Flows, testJSONFlow{Name: o.Name, File: o.Pos.File, Line: o.Pos.Line, Pass: o.Pass,
			Expect: o.Expect.String(), Rule: o.Rule, NSG: o.NSG, Why: o.Why, Result: res})
	}
	data, err := json.Marshal(out)
	return model.EscapeJSON(data), err
}

// JUnit XML, as CI systems read it: a testsuite per flows file, a testcase per flow.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

func junitXML(outcomes []flows.Outcome, set *whatif.Set) ([]byte, error) {
	root := junitSuites{Name: "ipflow test"}
	var props []junitProperty
	if set != nil {
		props = []junitProperty{{Name: "whatIf", Value: strings.TrimSpace(whatIfLine(set))}}
	}
	index := map[string]int{}
	for _, o := range outcomes {
		file := model.Printable(o.Pos.File)
		i, ok := index[file]
		if !ok {
			i = len(root.Suites)
			index[file] = i
			root.Suites = append(root.Suites, junitSuite{Name: file, Properties: props})
		}
		s := &root.Suites[i]
		c := junitCase{Name: model.Printable(o.Name), Classname: "ipflow." + strings.TrimSuffix(filepath.Base(file), ".toml"),
			File: file, Line: o.Pos.Line, SystemOut: verdictLine(o.Result)}
		if !o.Pass {
			c.Failure = &junitFailure{Message: o.Why, Type: "FlowVerdict", Text: strings.Join(failureDetail(o), "\n")}
			s.Failures++
			root.Failures++
		}
		s.Tests++
		root.Tests++
		s.Cases = append(s.Cases, c)
	}
	data, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), data...), '\n'), nil
}

func writeJUnit(path string, outcomes []flows.Outcome, set *whatif.Set) error {
	data, err := junitXML(outcomes, set)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
