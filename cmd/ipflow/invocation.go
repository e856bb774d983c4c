package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
	"ipflow/whatif"
)

// invocation is one run of a subcommand: its streams and, when ipflow serve runs it for an SSH
// session, the server's already loaded estate. Subcommands that can be served (verify, …) take
// one, get their estate from c.estate and open input files with c.open, so the same code runs
// locally and over SSH.
type invocation struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	// served is the server's shared estate; nil runs locally (-f or the embedded sample).
	served *engine.Engine
	// verdict, if set, is told of every verdict a subcommand gives (the server's audit log).
	verdict func(*engine.Result)
}

// local is an invocation for this process's own command line.
func local(stdout, stderr io.Writer) *invocation {
	return &invocation{ctx: context.Background(), stdin: os.Stdin, stdout: stdout, stderr: stderr}
}

// estate is the compiled estate a subcommand works on: the server's, or the fixtures named by
// -f (the sample without). It prints load errors and warnings; a nil engine means exit with
// the returned code.
func (c *invocation) estate(cmd string, paths []string) (*engine.Engine, int) {
	return c.estateFor(cmd, paths, nil)
}

// estateFor is c.estate for a subcommand that evaluates flows of the named VMs only: when each
// of vms is a VM of the estate (by its exact name), only they are compiled (whatif.Only: their
// verdicts are exactly the whole estate's, and a 10,000-VM estate compiles in a fraction of the
// time). Otherwise, or with no names, every VM is, so that an unknown name is explained against
// them all.
func (c *invocation) estateFor(cmd string, paths []string, vms []string) (*engine.Engine, int) {
	eng, _, code := c.estateOf(cmd, paths, vms)
	return eng, code
}

// estateOf is estateFor, with the whole estate's environment (the engine's own when every VM
// is compiled).
func (c *invocation) estateOf(cmd string, paths []string, vms []string) (*engine.Engine, *model.Environment, int) {
	if c.served != nil {
		if len(paths) > 0 {
			fmt.Fprintf(c.stderr, "ipflow %s: -f is not available over ssh: the server answers from the estate it serves\n", cmd)
			return nil, nil, 2
		}
		for _, w := range c.served.Environment().Warnings {
			fmt.Fprintf(c.stderr, "warning: %s\n", w)
		}
		return c.served, c.served.Environment(), 0
	}
	env, code := load(paths, c.stderr, 2)
	if env == nil {
		return nil, nil, code
	}
	for _, w := range env.Warnings {
		fmt.Fprintf(c.stderr, "warning: %s\n", w)
	}
	if only := vmsNamed(env, vms); only != nil {
		return engine.Compile(whatif.Only(env, only)), env, 0
	}
	return engine.Compile(env), env, 0
}

// analyzerFor is c.analyzer for a question about one VM (reach): compiled for that VM alone
// when it is in the estate (see estateFor), its addresses named from the whole estate.
func (c *invocation) analyzerFor(cmd string, paths []string, vm string) (*analysis.Analyzer, int) {
	eng, env, code := c.estateOf(cmd, paths, []string{vm})
	if eng == nil {
		return nil, code
	}
	if eng.Environment() != env {
		return analysis.NewFor(eng, env), 0
	}
	return analysis.New(eng), 0
}

// vmsNamed is the estate's VMs of the given names, in the estate's order; nil when there are
// no names or one is not a VM's.
func vmsNamed(env *model.Environment, names []string) []*model.VM {
	if len(names) == 0 {
		return nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var out []*model.VM
	for _, vm := range env.VMs {
		if want[vm.Name] {
			out = append(out, vm)
			delete(want, vm.Name)
		}
	}
	if len(want) > 0 {
		return nil
	}
	return out
}

// analyzer is c.estate for the whole-estate commands (reach, lint, …).
func (c *invocation) analyzer(cmd string, paths []string) (*analysis.Analyzer, int) {
	eng, code := c.estate(cmd, paths)
	if eng == nil {
		return nil, code
	}
	return analysis.New(eng), 0
}

// open opens an input file named on the command line; "-" is standard input. A served
// subcommand reads only its session's standard input, never the server's files.
func (c *invocation) open(cmd, path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(c.stdin), nil
	}
	if c.served != nil {
		return nil, fmt.Errorf("%s: files on the server cannot be read over ssh; name it - and send the file on standard input (ssh … %s … - < FILE)", quote(path), cmd)
	}
	return os.Open(path)
}

// maxServedInput bounds a flows file or change set a session sends on standard input. Parsing
// holds about 25 times its size (8 MiB of flows peaked at 190 MB in the server), and up to
// --max-sessions sessions may parse at once.
const maxServedInput = 8 << 20

// inputLimit is the most an input file may hold: limit locally, less over ssh.
func (c *invocation) inputLimit(limit int64) int64 {
	if c.served != nil {
		return min(limit, maxServedInput)
	}
	return limit
}

// readInput reads an input file opened with open, refusing one over limit bytes (inputLimit).
func (c *invocation) readInput(f io.Reader, name string, limit int64) ([]byte, error) {
	limit = c.inputLimit(limit)
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", model.Printable(name), err)
	}
	if int64(len(data)) > limit {
		where := ""
		if c.served != nil {
			where = " over ssh"
		}
		return nil, fmt.Errorf("%s: an input file is limited to %d MiB%s", model.Printable(name), limit>>20, where)
	}
	return data, nil
}

// told passes a verdict to the audit hook, if any.
func (c *invocation) told(res *engine.Result) {
	if c.verdict != nil {
		c.verdict(res)
	}
}
