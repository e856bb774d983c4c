package main

import (
	"fmt"

	"ipflow/analysis"
)

// runLint checks the whole estate: exit 1 when a finding is at or above --fail-on, 0 when
// none is, 2 on errors.
func runLint(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("lint")
	var paths pathList
	var failOn, output string
	var wi whatIfFlag
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	wi.register(fs)
	fs.StringVar(&failOn, "fail-on", "error", "exit 1 when a finding is at or above: note, warning or error")
	fs.StringVar(&output, "o", "text", "output: text, json or sarif")
	fs.StringVar(&output, "output", "text", "output: text, json or sarif")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output, ok := outputFlag("lint", output, stderr, "text", "json", "sarif")
	if !ok {
		return 2
	}
	threshold, err := analysis.ParseSeverity(failOn)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow lint: --fail-on %v\n", err)
		return 2
	}
	a, code := c.analyzer("lint", paths)
	if a == nil {
		return code
	}
	a, set, code := wi.analyzer(c, "lint", a)
	if a == nil {
		return code
	}
	stdout = whatIfOutput(c, set, output)
	findings, err := a.LintContext(c.ctx) // over ssh, stops when the client leaves
	if err != nil {
		fmt.Fprintf(stderr, "ipflow lint: stopped: %v\n", err)
		return 2
	}
	if output == "sarif" {
		data, err := findings.SARIF(version)
		if err != nil {
			fmt.Fprintf(stderr, "ipflow lint: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", data)
	} else if code := writeOutput("lint", output, findings, stdout, stderr); code != 0 {
		return code
	}
	if findings.AtLeast(threshold) {
		return 1
	}
	return 0
}
