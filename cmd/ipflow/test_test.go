package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipflow/fixtures"
)

func runStdin(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	c := local(&out, &errb)
	c.stdin = strings.NewReader(stdin)
	code = runIn(c, args)
	return code, out.String(), errb.String()
}

func sampleFlows(t *testing.T) string {
	t.Helper()
	return string(fixtures.SampleFlows().Data)
}

// failingFlows is the sample's flows with two expectations broken.
func failingFlows(t *testing.T) string {
	s := sampleFlows(t)
	s = strings.Replace(s, `expect = "deny"`+"\n"+`rule = "securityAdminRules/deny-ssh-from-internet"`, `expect = "allow"`+"\n"+`rule = "securityAdminRules/deny-ssh-from-internet"`, 1)
	s = strings.Replace(s, `rule = "securityRules/allow-app-to-sql"`+"\n"+`nsg = "db-subnet-nsg"`, `rule = "securityRules/allow-app-to-sql"`+"\n"+`nsg = "app-subnet-nsg"`, 1)
	if s == sampleFlows(t) {
		t.Fatal("the sample's flows changed: update failingFlows")
	}
	return s
}

func TestTestSampleFlowsPass(t *testing.T) {
	code, out, errOut := runStdin(sampleFlows(t), "test", "-")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "10 passed, 0 failed" {
		t.Errorf("summary %q", last)
	}
	if !strings.Contains(out, "PASS  app reaches db on 1433: Access allowed by securityRules/allow-app-to-sql (NSG db-subnet-nsg on subnet/spoke-data/db)\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestTestFailures(t *testing.T) {
	code, out, errOut := runStdin(failingFlows(t), "test", "-")
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, w := range []string{
		"FAIL  nothing from the Internet reaches ssh on web-01: Access denied by securityAdminRules/deny-ssh-from-internet (security admin rules on virtualNetwork/hub)\n" +
			"      <stdin>:15: expected allow, got deny\n" +
			"      Flow: Inbound TCP 13.107.21.200:60000 → 10.0.1.4:22 on web-01 / web-01-nic (ipconfig1, subnet hub/web)\n" +
			"      Evaluation\n" +
			"        1. Security admin rules on virtualNetwork/hub: denied by securityAdminRules/deny-ssh-from-internet\n",
		"FAIL  app reaches db on 1433: Access allowed by securityRules/allow-app-to-sql (NSG db-subnet-nsg on subnet/spoke-data/db)\n" +
			"      <stdin>:53: expected NSG app-subnet-nsg, decided in NSG db-subnet-nsg\n",
		"\n8 passed, 2 failed\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not contain\n%s\n---- output:\n%s", w, out)
		}
	}
}

func TestTestErrorsExit2(t *testing.T) {
	bad := strings.Replace(sampleFlows(t), `protocol = "tcp"`, `protocol = "tcpx"`, 1)
	cases := []struct {
		stdin string
		args  []string
		want  string
	}{
		{bad, []string{"test", "-"}, "error: <stdin>:8: flow \"the Internet reaches web-01 on 443\": protocol: \"tcpx\": must be tcp, udp, icmp, esp or ah\nipflow test: 1 error(s) in the flows; nothing was tested\n"},
		{"", []string{"test"}, "ipflow test: name a flows file (or - for stdin)"},
		{"", []string{"test", "-o", "yaml", "-"}, `ipflow test: -o "yaml": must be text or json`},
		{"", []string{"test", "--record", "--junit", "x.xml", "-"}, "--junit reports a test run"},
		{"", []string{"test", "-", "-"}, "- (stdin) is named twice"},
		{"", []string{"test", "/nonexistent/flows.toml"}, "ipflow test: cannot read /nonexistent/flows.toml: no such file or directory"},
		{"", []string{"test", "--bogus", "-"}, "ipflow test: flag provided but not defined: -bogus"},
		{sampleFlows(t), []string{"test", "-f", "/nonexistent/env.toml", "-"}, "/nonexistent/env.toml"},
		{sampleFlows(t), []string{"test", "-", "--junit", "/nonexistent/dir/j.xml"}, "ipflow test: --junit: open /nonexistent/dir/j.xml"},
	}
	for _, c := range cases {
		code, _, errOut := runStdin(c.stdin, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant %q", c.args, code, errOut, c.want)
		}
	}
}

// Flags may come after the flows files; -h prints usage.
func TestTestFlagsAnywhere(t *testing.T) {
	code, out, _ := runStdin(sampleFlows(t), "test", "-", "-o", "json")
	if code != 0 || !strings.HasPrefix(out, `{"passed":10,"failed":0,"flows":[`) {
		t.Errorf("exit %d: %.80s", code, out)
	}
	if code, out, _ := runStdin("", "test", "-h"); code != 0 || !strings.Contains(out, "ipflow test ") {
		t.Errorf("-h: exit %d", code)
	}
}

func TestTestJSON(t *testing.T) {
	code, out, _ := runStdin(strings.Replace(failingFlows(t), `name = "db backs up to storage"`, `name = "db backs up \u202e to storage"`, 1), "test", "-o", "json", "-")
	if strings.Contains(out, "\u202e") || !strings.Contains(out, `"name":"db backs up \u202e to storage"`) {
		t.Errorf("a bidi control in a name is not escaped: %s", out)
	}
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var v struct {
		Passed, Failed int
		Flows          []struct {
			Name, File, Expect, Rule, NSG, Why string
			Line                               int
			Pass                               bool
			Result                             struct {
				Access, RuleName string
				Evaluated        []any
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Passed != 8 || v.Failed != 2 || len(v.Flows) != 10 {
		t.Fatalf("%d passed, %d failed, %d flows", v.Passed, v.Failed, len(v.Flows))
	}
	f := v.Flows[1]
	if f.Pass || f.Why != "expected allow, got deny" || f.Expect != "allow" || f.Line != 15 || f.File != "<stdin>" ||
		f.Result.Access != "Deny" || f.Result.RuleName != "securityAdminRules/deny-ssh-from-internet" || len(f.Result.Evaluated) != 3 {
		t.Errorf("%+v", f)
	}
}

// The JUnit XML is read back with an XML parser: a testcase per flow named by its name, a
// failure with the explanation for each failed flow.
func TestTestJUnit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	hostile := strings.Replace(failingFlows(t), `name = "db backs up to storage"`, `name = "db backs up <to> & \"storage\" \u001b[31m"`, 1)
	code, _, errOut := runStdin(hostile, "test", "-", "--junit", path)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("\x1b")) {
		t.Error("raw escape in the XML")
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Line      int    `xml:"line,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	if doc.Tests != 10 || doc.Failures != 2 || len(doc.Suites) != 1 || doc.Suites[0].Tests != 10 || doc.Suites[0].Failures != 2 || len(doc.Suites[0].Cases) != 10 {
		t.Fatalf("counts: %+v", doc)
	}
	cases := doc.Suites[0].Cases
	if c := cases[0]; c.Name != "the Internet reaches web-01 on 443" || c.Failure != nil || c.Line != 4 ||
		c.SystemOut != "Access allowed by securityRules/allow-https (NSG web-nic-nsg on networkInterface/web-01-nic)" {
		t.Errorf("case 0: %+v", c)
	}
	c := cases[1]
	if c.Failure == nil || c.Failure.Message != "expected allow, got deny" ||
		!strings.Contains(c.Failure.Text, "<stdin>:15: expected allow, got deny\nFlow: Inbound TCP 13.107.21.200:60000 → 10.0.1.4:22") ||
		!strings.Contains(c.Failure.Text, "1. Security admin rules on virtualNetwork/hub: denied by securityAdminRules/deny-ssh-from-internet") {
		t.Errorf("case 1: %+v", c)
	}
	if got := cases[7].Name; got != `db backs up <to> & \"storage\" \x1b[31m` {
		t.Errorf("hostile name came back as %q", got)
	}
	failed := 0
	for _, c := range cases {
		if c.Failure != nil {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d failures", failed)
	}
}

// --record writes the flows with today's verdicts; the recording then passes as a test, and
// recording it again gives the same file.
func TestTestRecord(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "flows.toml")
	var noExpect []string
	for _, l := range strings.Split(failingFlows(t), "\n") {
		if !strings.HasPrefix(l, "expect") && !strings.HasPrefix(l, "rule") && !strings.HasPrefix(l, "nsg") {
			noExpect = append(noExpect, l)
		}
	}
	if err := os.WriteFile(in, []byte(strings.Join(noExpect, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runArgs("test", in); code != 2 || !strings.Contains(errOut, "missing required key expect") {
		t.Fatalf("without expect: exit %d, %s", code, errOut)
	}
	out := filepath.Join(dir, "new.toml")
	code, _, errOut := runArgs("test", "--record", in, "-o", out)
	if code != 0 || errOut != "ipflow test --record: wrote 10 flow(s) to "+out+"\n" {
		t.Fatalf("record: exit %d, %s", code, errOut)
	}
	rec, _ := os.ReadFile(out)
	if !strings.Contains(string(rec), "[[flow]]\nname = \"app reaches db on 1433\"\nvm = \"db-01\"\ndirection = \"inbound\"\nprotocol = \"tcp\"\nlocal = \"10.2.1.4:1433\"\nremote = \"10.1.1.4:50000\"\nexpect = \"allow\"\nrule = \"securityRules/allow-app-to-sql\"\nnsg = \"db-subnet-nsg\"\n") {
		t.Errorf("recorded:\n%s", rec)
	}
	// An admin rule decided: no nsg.
	if !strings.Contains(string(rec), "expect = \"deny\"\nrule = \"securityAdminRules/deny-ssh-from-internet\"\n\n") {
		t.Errorf("recorded:\n%s", rec)
	}
	if code, res, errOut := runArgs("test", out); code != 0 || !strings.HasSuffix(res, "10 passed, 0 failed\n") {
		t.Errorf("recording as a test: exit %d\n%s%s", code, res, errOut)
	}
	code, again, _ := runStdin(string(rec), "test", "--record", "-")
	if code != 0 || again != string(rec) {
		t.Errorf("recording the recording differs:\n%s", again)
	}
}

// Served (ipflow serve): the flows file comes on stdin, the estate is the server's, every
// verdict is told to the audit hook, and nothing on the server is read or written.
func TestTestServed(t *testing.T) {
	c, out, errb, told := served(t, failingFlows(t))
	if code := runIn(c, []string{"test", "-"}); code != 1 || !strings.HasSuffix(out.String(), "8 passed, 2 failed\n") || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errb, out)
	}
	if len(*told) != 10 {
		t.Errorf("%d verdicts told", len(*told))
	}
	for _, args := range [][]string{
		{"test", "/etc/passwd"},
		{"test", "-", "--junit", "/tmp/j.xml"},
		{"test", "--record", "-", "-o", "/tmp/x.toml"},
		{"test", "-f", "/etc", "-"},
	} {
		c, out, errb, _ := served(t, sampleFlows(t))
		if code := runIn(c, args); code != 2 || out.Len() != 0 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errb)
		}
	}
	c, out, _, _ = served(t, `{"vm":"web-01","direction":"inbound","protocol":"tcp","local":"10.0.1.4:443","remote":"13.107.21.200:60000"}`)
	if code := runIn(c, []string{"verify", "--batch"}); code != 0 || out.String() != "line 1: Allow securityRules/allow-https (NSG web-nic-nsg on networkInterface/web-01-nic)\n" {
		t.Errorf("served batch: exit %d, %q", code, out)
	}
}

// --what-if tests a change before it is made: removing the SQL rule breaks "app reaches db".
func TestTestWhatIf(t *testing.T) {
	dir := t.TempDir()
	change := filepath.Join(dir, "change.toml")
	os.WriteFile(change, []byte("[[change]]\nop = \"remove\"\nnsg = \"db-subnet-nsg\"\nname = \"allow-app-to-sql\"\n"), 0o644)
	code, out, errOut := runStdin(sampleFlows(t), "test", "-", "--what-if", change)
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, w := range []string{
		"WHAT-IF: 1 change from " + change + " applied; the estate is not the one loaded.\n",
		"FAIL  app reaches db on 1433: Access denied by defaultSecurityRules/DenyAllInBound (NSG db-subnet-nsg on subnet/spoke-data/db)\n" +
			"      <stdin>:53: expected allow, got deny; expected rule securityRules/allow-app-to-sql, decided by defaultSecurityRules/DenyAllInBound\n",
		"9 passed, 1 failed\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not contain %q:\n%s", w, out)
		}
	}
	code, out, _ = runStdin(sampleFlows(t), "test", "-", "--what-if", change, "-o", "json")
	if code != 1 || !strings.HasPrefix(out, `{"whatIf":{"files":["`+change+`"],"changes":[`) {
		t.Errorf("json: exit %d: %.200s", code, out)
	}
	junit := filepath.Join(dir, "j.xml")
	runStdin(sampleFlows(t), "test", "-", "--what-if", change, "--junit", junit)
	data, _ := os.ReadFile(junit)
	var doc struct {
		Suites []struct {
			Props []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Suites) != 1 || len(doc.Suites[0].Props) != 1 || doc.Suites[0].Props[0].Name != "whatIf" {
		t.Errorf("junit properties: %v %+v", err, doc)
	}
	if code, _, errOut := runStdin("", "test", "-", "--what-if", "-"); code != 2 || !strings.Contains(errOut, "cannot both come from stdin") {
		t.Errorf("both on stdin: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runStdin(sampleFlows(t), "test", "-", "--what-if", filepath.Join(dir, "none.toml")); code != 2 || !strings.Contains(errOut, "--what-if") {
		t.Errorf("missing change set: exit %d, %q", code, errOut)
	}
	// A bad change set and a bad flows file: both are reported.
	badChange := filepath.Join(dir, "bad-change.toml")
	os.WriteFile(badChange, []byte("[[change]]\nop = \"remove\"\nnsg = \"db-subnet-nsh\"\nname = \"x\"\n"), 0o644)
	badFlows := strings.Replace(sampleFlows(t), `protocol = "tcp"`, `protocol = "tcpx"`, 1)
	if code, _, errOut := runStdin(badFlows, "test", "-", "--what-if", badChange); code != 2 ||
		!strings.Contains(errOut, "bad-change.toml:3") || !strings.Contains(errOut, `<stdin>:8: flow "the Internet reaches web-01 on 443": protocol: "tcpx"`) {
		t.Errorf("bad change and bad flows: exit %d:\n%s", code, errOut)
	}
}
