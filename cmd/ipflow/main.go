// Command ipflow answers Azure Network Watcher's IP flow verify question offline: is this flow
// allowed to or from this VM, and which NSG rule decided it?
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/flows"
	"ipflow/model"
)

const usage = `ipflow: Azure NSG IP flow verify, offline

Usage:
  ipflow [-f PATH]... [flow flags]            open the terminal UI (flow flags jump to that verdict)
  ipflow verify [-f PATH]... flow flags [--what-if FILE]... [--suggest] [-o text|json]
  ipflow verify --batch [-f PATH]... [-o text|json] < flows.jsonl|flows.csv
  ipflow test   [-f PATH]... FLOWS.toml|-... [--what-if FILE]... [-o text|json] [--junit FILE]
  ipflow test --record [-f PATH]... FLOWS.toml|-... [-o NEW.toml]
  ipflow check  [-f PATH]...                  validate fixtures; print every error and warning
  ipflow import FILE|DIR... [-o env.toml]     turn Azure CLI/REST JSON into a fixture
  ipflow rules  [-f PATH]... --vm NAME [--nic NAME] [--direction D] [-o text|json]
                                              a NIC's effective security rules, tags expanded
  ipflow reach  [-f PATH]... --vm NAME [--nic NAME] --direction D --protocol P [--port N|N-M] [-o text|json]
                                              who can reach a port (inbound), where a VM may send (outbound)
  ipflow matrix [-f PATH]... --protocol P [--port N] [--vms FILTER] [-o text|json]
                                              VM × VM: which flows get through both sides
  ipflow lint   [-f PATH]... [--fail-on note|warning|error] [-o text|json|sarif]
                                              shadowed and unreachable rules, dead references, exposure
  ipflow diff   [-f OLD]... --to NEW... [-o text|json]
                                              what a change to the estate changes, flow by flow
  ipflow serve  [-f PATH]... --authorized-keys FILE [--listen :2222] [--host-key PATH]
                [--max-sessions 64] [--idle-timeout 30m] [--audit-log FILE]
                                              serve the UI and verify, … over SSH to a team
  ipflow version

Flow flags (as az network watcher test-ip-flow):
  --vm NAME  --nic NAME (optional)  --direction inbound|outbound
  --protocol tcp|udp|icmp|esp|ah  --local IP:PORT  --remote IP:PORT

-f PATH may repeat; a directory loads every *.toml in it. Without -f, the embedded sample is used.
Large estates load from a snapshot in the user's cache directory when unchanged; --no-cache (any
command) loads without it.
Files are read only if regular and at most --max-file-size SIZE (default 1GiB; like 2GiB, 500M).
Exit codes: 0 a verdict was given, the check passed or every flow test passed; 1 check found
errors, a flow test failed, lint found a finding at --fail-on or diff found a change; 2 any other
error (for --batch: any line was bad).
`

func main() {
	args, noCache := withoutNoCache(os.Args[1:])
	cacheEnabled = !noCache
	code := run(args, os.Stdout, os.Stderr)
	waitForCache()
	os.Exit(code)
}

// run is the whole program, minus the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runIn(local(stdout, stderr), args)
}

// runIn runs one command line within c: this process's, or an SSH session's (ipflow serve).
func runIn(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		return runUI(args, stdout, stderr)
	case "verify":
		return runVerify(c, args)
	case "test":
		return runTest(c, args)
	case "check":
		return runCheck(args, stdout, stderr)
	case "import":
		return runImport(args, stdout, stderr)
	case "reach":
		return runReach(c, args)
	case "rules":
		return runRules(c, args)
	case "diff":
		return runDiff(c, args)
	case "matrix":
		return runMatrix(c, args)
	case "serve":
		return runServe(args, stdout, stderr)
	case "lint":
		return runLint(c, args)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help":
		if c.served != nil {
			fmt.Fprint(stdout, servedUsage)
		} else {
			fmt.Fprint(stdout, usage)
		}
		return 0
	}
	msg := fmt.Sprintf("ipflow: unknown command %q; commands are verify, test, check, import, rules, reach, matrix, lint, diff, serve, version", cmd)
	if s := model.Suggest(cmd, []string{"verify", "test", "check", "import", "rules", "reach", "matrix", "lint", "diff", "serve", "version", "help"}); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	fmt.Fprintln(stderr, msg)
	return 2
}

// pathList is a repeatable -f flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

// flowFlags are the flags of az network watcher test-ip-flow.
type flowFlags struct {
	vm, nic, direction, protocol, local, remote string
}

func (f *flowFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.vm, "vm", "", "VM name")
	fs.StringVar(&f.nic, "nic", "", "NIC name (optional: the NIC holding the local IP)")
	fs.StringVar(&f.direction, "direction", "", "inbound or outbound, relative to the VM")
	fs.StringVar(&f.protocol, "protocol", "", "tcp, udp, icmp, esp or ah")
	fs.StringVar(&f.local, "local", "", "the VM's IP:PORT")
	fs.StringVar(&f.remote, "remote", "", "the remote IP:PORT")
}

func (f *flowFlags) any() bool {
	return f.vm != "" || f.nic != "" || f.direction != "" || f.protocol != "" || f.local != "" || f.remote != ""
}

// flow turns the flags into a Flow, with one message listing every flag that is missing or wrong.
func (f *flowFlags) flow() (engine.Flow, error) {
	fl, errs := flows.Fields{VM: f.vm, NIC: f.nic, Direction: f.direction, Protocol: f.protocol, Local: f.local, Remote: f.remote}.Parse()
	if len(errs) == 0 {
		return fl, nil
	}
	problems := make([]string, len(errs))
	for i, e := range errs {
		if e.Missing {
			problems[i] = "--" + e.Field + " is required"
		} else {
			problems[i] = "--" + e.Field + ": " + e.Msg
		}
	}
	return fl, errors.New(strings.Join(problems, "; "))
}

// quote quotes what the user typed or a name for a message: escaped, and cut when longer than a
// screen line.
func quote(s string) string { return model.QuoteName(s) }

// newFlagSet makes a flag set that reports errors in one line and prints usage only on -h.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // usage is printed for -h only; errors get one line
	fs.Var(sizeFlag{}, "max-file-size", "largest fixture file read (default 1GiB)")
	return fs
}

// maxFileSize is the --max-file-size of this run, which every command that reads -f takes. It
// is process-wide because -f paths travel as plain lists, and atomic because ipflow serve runs
// commands side by side (its own estate is read with the default).
var maxFileSize atomic.Int64

type sizeFlag struct{}

func (sizeFlag) String() string { return model.FormatBytes(model.DefaultMaxFileSize) }

func (sizeFlag) Set(v string) error {
	n, err := model.ParseBytes(v)
	if err != nil {
		return err
	}
	maxFileSize.Store(n)
	return nil
}

// parseFlags parses args and returns (exit code, done): done when the caller must stop.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (int, bool) {
	err := fs.Parse(args)
	name := "ipflow " + fs.Name()
	if fs.Name() == "ipflow" {
		name = "ipflow"
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0, true
	case err != nil:
		// Printable: the flag package echoes an unknown flag's name raw.
		fmt.Fprintf(stderr, "%s: %s (run '%s -h' for usage)\n", name, model.Printable(err.Error()), name)
		return 2, true
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %s (flags start with -; run '%s -h')\n", name, quote(fs.Arg(0)), name)
		return 2, true
	}
	return 0, false
}

// load reads the fixtures named by -f, or the embedded sample. Load errors are printed, one per
// line; the returned code is what the caller exits with when env is nil.
func load(paths []string, stderr io.Writer, errCode int) (*model.Environment, int) {
	env, err := readEstate(paths, nil)
	if err != nil {
		return nil, loadFailed(err, stderr, errCode)
	}
	return env, 0
}

// readEstate reads and links the fixtures named by -f, or the embedded sample; progress, when
// not nil, is told the files and bytes read after each file ("reading"), then when linking
// starts ("linking").
func readEstate(paths []string, progress func(stage string, files int, bytes int64)) (*model.Environment, error) {
	if progress == nil {
		progress = func(string, int, int64) {}
	}
	if len(paths) == 0 {
		srcs := fixtures.Sample()
		progress("linking", len(srcs), int64(totalSize(srcs)))
		return model.Load(srcs...)
	}
	files, size, err := model.ListPaths(paths, maxFileSize.Load())
	if err != nil {
		return nil, err
	}
	return loadFiles(files, size, maxFileSize.Load(), progress)
}

// loadFailed prints why the fixtures did not load, every error and warning a line, and
// returns the exit code: errCode for errors in the fixtures, 2 for anything else.
func loadFailed(err error, stderr io.Writer, errCode int) int {
	var le *model.LoadError
	if errors.As(err, &le) {
		for _, is := range le.Errors {
			fmt.Fprintf(stderr, "error: %s\n", is)
		}
		for _, is := range le.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", is)
		}
		if errCode == 1 { // check
			fmt.Fprintf(stderr, "ipflow check: %d error(s), %d warning(s)\n", model.CountIssues(le.Errors), model.CountIssues(le.Warnings))
		} else {
			fmt.Fprintf(stderr, "ipflow: %d error(s) in the fixtures; nothing was evaluated\n", model.CountIssues(le.Errors))
		}
		return errCode
	}
	fmt.Fprintf(stderr, "ipflow: %v\n", err)
	return 2
}

func runVerify(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("verify")
	var paths pathList
	var ff flowFlags
	var output string
	var batch bool
	var wi whatIfFlag
	var sug bool
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	ff.register(fs)
	wi.register(fs)
	fs.BoolVar(&sug, "suggest", false, "after the verdict, the changes that reverse it, with their blast radius")
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&output, "output", "text", "output: text or json")
	fs.BoolVar(&batch, "batch", false, "read flows from stdin, one per line (JSON or CSV)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output = strings.ToLower(output)
	if output != "text" && output != "json" {
		fmt.Fprintf(stderr, "ipflow verify: -o %s: must be text or json\n", quote(output))
		return 2
	}
	if batch {
		if ff.any() {
			fmt.Fprintln(stderr, "ipflow verify: --batch reads the flows from stdin; leave out --vm, --nic, --direction, --protocol, --local and --remote")
			return 2
		}
		if len(wi.files) > 0 || sug {
			fmt.Fprintln(stderr, "ipflow verify: --what-if and --suggest are not available with --batch; verify the flows one by one")
			return 2
		}
		return runBatch(c, paths, output == "json")
	}
	flow, err := ff.flow()
	if err != nil {
		fmt.Fprintf(stderr, "ipflow verify: %v\n", err)
		return 2
	}
	// One flow of one VM: compile that VM alone, unless a what-if or suggestions need the whole.
	var only []string
	if len(wi.files) == 0 && !sug {
		only = []string{flow.VM}
	}
	eng, code := c.estateFor("verify", paths, only)
	if eng == nil {
		return code
	}
	eng, set, code := wi.apply(c, "verify", eng)
	if eng == nil {
		return code
	}
	res, err := eng.Verify(flow)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow verify: %v\n", err)
		return 2
	}
	c.told(res)
	if output == "json" {
		data, err := res.MarshalJSON()
		if err != nil {
			fmt.Fprintf(stderr, "ipflow verify: %v\n", err)
			return 2
		}
		if sug {
			if data, code = withSuggestions(c, eng, flow, data); data == nil {
				return code
			}
		}
		fmt.Fprintf(stdout, "%s\n", withWhatIf(data, set))
		return 0
	}
	fmt.Fprint(stdout, whatIfLine(set))
	if err := res.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "ipflow verify: %v\n", err)
		return 2
	}
	if sug {
		return writeSuggestions(c, eng, flow)
	}
	return 0
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check")
	var paths pathList
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	env, code := load(paths, stderr, 1)
	if env == nil {
		return code
	}
	for _, w := range env.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	fmt.Fprintln(stdout, summary(env))
	return 0
}

// summary is one line of counts: what a user checks first after loading their estate.
func summary(env *model.Environment) string {
	subnets, rules, nics := 0, 0, 0
	for _, v := range env.VNets {
		subnets += len(v.Subnets)
	}
	for _, n := range env.NSGs {
		rules += len(n.Rules)
	}
	for _, vm := range env.VMs {
		nics += len(vm.NICs)
	}
	name := env.Name
	if name == "" {
		name = "environment"
	}
	return fmt.Sprintf("%s: OK: %d VNets, %d subnets, %d NSGs (%d custom rules), %d ASGs, %d VMs, %d NICs, %d admin rules, %d warnings",
		model.Printable(name), len(env.VNets), subnets, len(env.NSGs), rules, len(env.ASGs), len(env.VMs), nics, len(env.AdminRules), model.CountIssues(env.Warnings))
}
