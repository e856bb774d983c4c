package main

import (
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"

	"ipflow/engine"
	"ipflow/tui"
)

// runUI opens the terminal UI. Flow flags deep-link: a complete flow opens on its verdict,
// --vm (and --nic) alone open that VM's NICs (or that NIC's form).
func runUI(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ipflow")
	var paths pathList
	var ff flowFlags
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	ff.register(fs)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	start := tui.Start{VM: ff.vm, NIC: ff.nic}
	if ff.direction != "" || ff.protocol != "" || ff.local != "" || ff.remote != "" {
		flow, err := ff.flow()
		if err != nil {
			fmt.Fprintf(stderr, "ipflow: %v\n", err)
			return 2
		}
		start.Flow = &flow
	}
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		fmt.Fprintln(stderr, "ipflow: the terminal UI needs a terminal (standard input and output are not one); "+
			"in scripts use 'ipflow verify' with the flow flags (-o json for machines), over ssh use 'ssh -t'")
		return 2
	}
	env, code := load(paths, stderr, 2)
	if env == nil {
		return code
	}
	if err := tui.Run(engine.Compile(env), start); err != nil {
		fmt.Fprintf(stderr, "ipflow: %v\n", err)
		return 2
	}
	return 0
}
