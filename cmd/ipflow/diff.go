package main

import (
	"fmt"

	"ipflow/analysis"
)

// runDiff compares two estates: exit 0 when nothing changes, 1 when something does, 2 on
// errors (as diff(1)).
func runDiff(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("diff")
	var paths, to pathList
	var output string
	fs.Var(&paths, "f", "the old estate: fixture file or directory (repeatable; default the sample)")
	fs.Var(&to, "to", "the new estate: fixture file or directory (repeatable)")
	var wi whatIfFlag
	wi.register(fs)
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&output, "output", "text", "output: text or json")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output, ok := outputFlag("diff", output, stderr, "text", "json")
	if !ok {
		return 2
	}
	if len(to) == 0 && len(wi.files) == 0 {
		fmt.Fprintln(stderr, "ipflow diff: --to or --what-if is required: the new estate's fixture file or directory, or a change set")
		return 2
	}
	if c.served != nil {
		fmt.Fprintln(stderr, "ipflow diff: not available over ssh: it reads two estates from files")
		return 2
	}
	before, code := c.estate("diff", paths)
	if before == nil {
		return code
	}
	// Without --to, the new estate is the old one with the change sets applied; with it, the
	// change sets apply to the new estate.
	after := before
	if len(to) > 0 {
		if after, code = c.estate("diff", to); after == nil {
			return code
		}
	}
	eng, set, code := wi.apply(c, "diff", after)
	if eng == nil {
		return code
	}
	diff := analysis.Diff
	if len(to) == 0 {
		diff = analysis.DiffChanged // the same changes, partitioning only what the rules changed
	}
	d := diff(before, eng)
	if output == "text" {
		fmt.Fprint(stdout, whatIfLine(set))
	} else if set != nil {
		stdout = &jsonWhatIf{w: stdout, set: set}
	}
	if code := writeOutput("diff", output, d, stdout, stderr); code != 0 {
		return code
	}
	if d.Changed() {
		return 1
	}
	return 0
}
