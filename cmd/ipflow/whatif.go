package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"ipflow/analysis"
	"ipflow/engine"
	"ipflow/model"
	"ipflow/whatif"
)

// whatIfFlag is the repeatable --what-if FILE flag: change sets applied, in order, to the
// estate a command works on.
type whatIfFlag struct{ files pathList }

func (w *whatIfFlag) register(fs *flag.FlagSet) {
	fs.Var(&w.files, "what-if", "change-set file: evaluate with its changes applied (repeatable; - for stdin)")
}

// apply reads the change sets and returns the what-if estate compiled, or eng itself when no
// --what-if was given. Errors are printed, one per line; a nil engine means exit with the code.
func (w *whatIfFlag) apply(c *invocation, cmd string, eng *engine.Engine) (*engine.Engine, *whatif.Set, int) {
	if len(w.files) == 0 {
		return eng, nil, 0
	}
	srcs := make([]model.Source, 0, len(w.files))
	for _, p := range w.files {
		f, err := c.open(cmd, p)
		if err != nil {
			fmt.Fprintf(c.stderr, "ipflow %s: --what-if: %v\n", cmd, err)
			return nil, nil, 2
		}
		name := p
		if p == "-" {
			name = "<stdin>"
		}
		data, err := c.readInput(f, name, 64<<20)
		f.Close()
		if err != nil {
			fmt.Fprintf(c.stderr, "ipflow %s: --what-if: %v\n", cmd, err)
			return nil, nil, 2
		}
		srcs = append(srcs, model.Source{Name: name, Data: data})
	}
	set, err := whatif.Load(eng.Environment(), srcs...)
	if err != nil {
		var le *model.LoadError
		if errors.As(err, &le) {
			for _, is := range le.Errors {
				fmt.Fprintf(c.stderr, "error: %s\n", is)
			}
			fmt.Fprintf(c.stderr, "ipflow %s: %d error(s) in the change set; nothing was evaluated\n", cmd, len(le.Errors))
		} else {
			fmt.Fprintf(c.stderr, "ipflow %s: %v\n", cmd, err)
		}
		return nil, nil, 2
	}
	return engine.Compile(set.After), set, 0
}

// whatIfLine says, above a command's text output, that a what-if is in effect.
func whatIfLine(set *whatif.Set) string {
	if set == nil {
		return ""
	}
	files := make([]string, len(set.Files))
	for i, f := range set.Files {
		files[i] = model.Printable(f)
	}
	return fmt.Sprintf("WHAT-IF: %s from %s applied; the estate is not the one loaded.\n", changeCount(len(set.Changes)), strings.Join(files, ", "))
}

func changeCount(n int) string {
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

// withWhatIf adds "whatIf": {files, changes} in front of a JSON object's fields.
func withWhatIf(data []byte, set *whatif.Set) []byte {
	if set == nil || len(data) < 2 || data[0] != '{' {
		return data
	}
	head, _ := json.Marshal(struct {
		Files   []string `json:"files"`
		Changes []string `json:"changes"`
	}{set.Files, changeList(set)})
	var b bytes.Buffer
	b.WriteString(`{"whatIf":`)
	b.Write(head)
	if rest := bytes.TrimSpace(data[1:]); len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(data[1:])
	return b.Bytes()
}

func changeList(set *whatif.Set) []string {
	out := make([]string, len(set.Changes))
	for i := range set.Changes {
		out[i] = set.Changes[i].What()
	}
	return out
}

// jsonWhatIf adds the what-if in effect to the JSON object written through it in one Write.
type jsonWhatIf struct {
	w   io.Writer
	set *whatif.Set
}

func (j *jsonWhatIf) Write(p []byte) (int, error) {
	if _, err := j.w.Write(withWhatIf(p, j.set)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// analyzer applies the change sets to an analyzer's estate; a nil analyzer means exit with the
// code.
func (w *whatIfFlag) analyzer(c *invocation, cmd string, a *analysis.Analyzer) (*analysis.Analyzer, *whatif.Set, int) {
	eng, set, code := w.apply(c, cmd, a.Engine())
	switch {
	case eng == nil:
		return nil, nil, code
	case set == nil:
		return a, nil, 0
	}
	return analysis.New(eng), set, 0
}

// output is where a command writes its text or JSON under a what-if: the WHAT-IF line goes
// first in text, the whatIf field first in JSON. Other formats (SARIF) are left as they are.
func whatIfOutput(c *invocation, set *whatif.Set, output string) io.Writer {
	switch {
	case set == nil:
		return c.stdout
	case output == "text":
		fmt.Fprint(c.stdout, whatIfLine(set))
		return c.stdout
	case output == "json":
		return &jsonWhatIf{w: c.stdout, set: set}
	}
	return c.stdout
}
