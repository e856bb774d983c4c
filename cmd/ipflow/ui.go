package main

import (
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"

	"ipflow/engine"
	"ipflow/model"
	"ipflow/tui"
)

// runUI opens the terminal UI. Flow flags deep-link: a complete flow opens on its verdict,
// --vm (and --nic) alone open that VM's NICs (or that NIC's form).
func runUI(args []string, stdout, stderr io.Writer) int {
	backgroundStores = true // the UI runs on: a new snapshot is stored meanwhile
	fs := newFlagSet("ipflow")
	var paths pathList
	var ff flowFlags
	var wi whatIfFlag
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	ff.register(fs)
	wi.register(fs)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	start := tui.Start{VM: ff.vm, NIC: ff.nic}
	for _, p := range wi.files {
		// The change sets open the UI in the what-if sandbox; they are read now, so that a
		// missing file is said before the terminal is taken.
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(stderr, "ipflow: --what-if: %v\n", err)
			return 2
		}
		start.WhatIf = append(start.WhatIf, model.Source{Name: p, Data: data})
	}
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
	// The estate loads behind a loading screen, so the first frame comes at once whatever
	// its size; load errors are printed once the terminal is restored.
	loader := func(progress func(tui.Progress)) (*engine.Engine, error) {
		read := tui.Progress{Stage: "reading"}
		progress(read)
		env, err := readEstate(paths, func(stage string, files int, bytes int64) {
			read = tui.Progress{Stage: stage, Files: files, Bytes: bytes}
			if stage == "snapshot" {
				read = tui.Progress{Stage: "compiling", Files: files, Bytes: bytes, Cached: true}
			}
			progress(read)
		})
		if err != nil {
			return nil, err
		}
		read.Stage = "compiling"
		progress(read)
		return engine.Compile(env), nil
	}
	if err := tui.RunLoading(loader, start); err != nil {
		return loadFailed(err, stderr, 2)
	}
	return 0
}
