package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"ipflow/engine"
	"ipflow/flows"
	"ipflow/model"
)

// runBatch is verify --batch: flows from stdin, one result per line, in order. A bad line gets an
// error result and the rest go on; the exit code is 2 if any line was bad.
func runBatch(c *invocation, paths []string, asJSON bool) int {
	stderr := c.stderr
	e, code := c.estate("verify", paths)
	if e == nil {
		return code
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	n, bad, err := batch(e, flows.NewLineReader(c.stdin), asJSON, out)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(stderr, "ipflow verify --batch: %v\n", err)
		return 2
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "ipflow verify --batch: %d of %d line(s) had errors\n", bad, n)
		return 2
	}
	return 0
}

// batch evaluates every flow lr reads and writes a result line for each; it returns the number
// of flows and of bad lines, and what stopped it early.
func batch(e *engine.Engine, lr *flows.LineReader, asJSON bool, w *bufio.Writer) (n, bad int, err error) {
	var buf []byte
	for {
		l, ok := lr.Next()
		if !ok {
			return n, bad, lr.Err()
		}
		n++
		var v engine.Verdict
		var fl engine.Flow
		if l.Err == nil {
			var errs []flows.FieldError
			if fl, errs = l.Fields.Parse(); len(errs) > 0 {
				l.Err = fieldErrors(errs)
			} else if v, err = e.Decide(fl); err != nil {
				l.Err, err = withField(err), nil
			}
		}
		buf = buf[:0]
		switch {
		case l.Err != nil:
			bad++
			buf = appendBatchError(buf, l, asJSON)
		case asJSON:
			buf = appendBatchJSON(buf, l.N, &fl, v)
		default:
			buf = appendBatchText(buf, l.N, v)
		}
		if _, err := w.Write(buf); err != nil {
			return n, bad, err
		}
	}
}

// withField prefixes an engine error with the field it is about, as flows files report them.
func withField(err error) error {
	var ie *engine.InputError
	if errors.As(err, &ie) && ie.Field != "" {
		return fmt.Errorf("%s: %w", ie.Field, err)
	}
	return err
}

func fieldErrors(errs []flows.FieldError) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		if e.Missing {
			msgs[i] = e.Field + " is required"
		} else {
			msgs[i] = e.Field + ": " + e.Msg
		}
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// appendBatchText appends "line 3: Allow securityRules/allow-https (NSG web-nic-nsg on
// networkInterface/web-01-nic)".
func appendBatchText(b []byte, n int, v engine.Verdict) []byte {
	b = append(b, "line "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ": "...)
	b = append(b, v.Access.String()...)
	if v.Rule == nil {
		return append(b, " (no rule: nothing applies, so every level allows)\n"...)
	}
	b = append(b, ' ')
	b = append(b, model.Printable(v.RuleName())...)
	if v.Layer.NSG != nil {
		b = append(b, " (NSG "...)
		b = append(b, model.Printable(v.Layer.NSG.Name)...)
		b = append(b, " on "...)
	} else {
		b = append(b, " (security admin rules on "...)
	}
	b = append(b, model.Printable(v.Layer.AppliedTo)...)
	return append(b, ")\n"...)
}

type batchJSON struct {
	Line                 int           `json:"line"`
	Access               string        `json:"access"`
	RuleName             string        `json:"ruleName,omitempty"`
	NetworkSecurityGroup string        `json:"networkSecurityGroup,omitempty"`
	AppliedTo            string        `json:"appliedTo,omitempty"`
	Flow                 batchFlowJSON `json:"flow"`
}

type batchFlowJSON struct {
	VM        string `json:"vm"`
	NIC       string `json:"nic,omitempty"`
	Direction string `json:"direction"`
	Protocol  string `json:"protocol"`
	Local     string `json:"local"`
	Remote    string `json:"remote"`
}

// appendBatchJSON appends the verdict as one JSON object and a newline: verify -o json's
// top-level fields without the trace, the line number and the flow as evaluated.
func appendBatchJSON(b []byte, n int, f *engine.Flow, v engine.Verdict) []byte {
	endpoint := func(a fmt.Stringer, p engine.Port) string {
		if !f.Protocol.HasPorts() {
			return a.String()
		}
		return a.String() + ":" + p.String()
	}
	out := batchJSON{Line: n, Access: v.Access.String(), RuleName: v.RuleName(),
		Flow: batchFlowJSON{VM: f.VM, NIC: f.NIC, Direction: f.Direction.String(), Protocol: f.Protocol.FlowString(),
			Local: endpoint(f.LocalIP, f.LocalPort), Remote: endpoint(f.RemoteIP, f.RemotePort)}}
	if v.Layer != nil {
		out.AppliedTo = v.Layer.AppliedTo
		if v.Layer.NSG != nil {
			out.NetworkSecurityGroup = v.Layer.NSG.Name
		}
	}
	data, _ := json.Marshal(out) // plain strings and ints: cannot fail
	return append(append(b, model.EscapeJSON(data)...), '\n')
}

func appendBatchError(b []byte, l flows.Line, asJSON bool) []byte {
	if asJSON {
		data, _ := json.Marshal(struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		}{l.N, l.Err.Error()})
		return append(append(b, model.EscapeJSON(data)...), '\n')
	}
	b = append(b, "line "...)
	b = strconv.AppendInt(b, int64(l.N), 10)
	b = append(b, ": error: "...)
	b = append(b, model.Printable(l.Err.Error())...)
	return append(b, '\n')
}
