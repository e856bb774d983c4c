package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
)

// served is an invocation as ipflow serve makes one: the estate already loaded, the session's
// streams, and an audit hook.
func served(t *testing.T, stdin string) (*invocation, *bytes.Buffer, *bytes.Buffer, *[]*engine.Result) {
	t.Helper()
	env, err := model.Load(fixtures.Sample()...)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	var told []*engine.Result
	c := &invocation{ctx: context.Background(), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		served: engine.Compile(env), verdict: func(r *engine.Result) { told = append(told, r) }}
	return c, &out, &errb, &told
}

func TestServedVerifyUsesTheServedEstateAndTellsTheVerdict(t *testing.T) {
	c, out, errb, told := served(t, "")
	code := runIn(c, []string{"verify", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "13.107.21.200:60000"})
	if code != 0 || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb)
	}
	if !strings.HasPrefix(out.String(), "Access allowed\n") {
		t.Fatalf("output %q", out)
	}
	if len(*told) != 1 || (*told)[0].Access != model.Allow {
		t.Fatalf("audit hook got %v", *told)
	}
}

func TestServedRefusesServerFiles(t *testing.T) {
	c, out, errb, _ := served(t, "from stdin")
	code := runIn(c, []string{"verify", "-f", "/etc", "--vm", "web-01", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.1.4:443", "--remote", "13.107.21.200:60000"})
	if code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "-f is not available over ssh") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	if _, err := c.open("test", "/etc/passwd"); err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Fatalf("open of a server file: %v", err)
	}
	r, err := c.open("test", "-")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "from stdin" {
		t.Fatalf("stdin read %q", b)
	}
}
