package main

import (
	"fmt"
	"io"

	"ipflow/analysis"
)

// runDiff compares two estates: exit 0 when nothing changes, 1 when something does, 2 on
// errors (as diff(1)).
func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("diff")
	var paths, to pathList
	var output string
	fs.Var(&paths, "f", "the old estate: fixture file or directory (repeatable; default the sample)")
	fs.Var(&to, "to", "the new estate: fixture file or directory (repeatable)")
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&output, "output", "text", "output: text or json")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output, ok := outputFlag("diff", output, stderr, "text", "json")
	if !ok {
		return 2
	}
	if len(to) == 0 {
		fmt.Fprintln(stderr, "ipflow diff: --to is required: the new estate's fixture file or directory")
		return 2
	}
	before, code := analyzer(paths, stderr)
	if before == nil {
		return code
	}
	after, code := analyzer(to, stderr)
	if after == nil {
		return code
	}
	d := analysis.Diff(before.Engine(), after.Engine())
	if code := writeOutput("diff", output, d, stdout, stderr); code != 0 {
		return code
	}
	if d.Changed() {
		return 1
	}
	return 0
}
