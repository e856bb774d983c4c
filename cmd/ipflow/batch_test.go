package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/flows"
	"ipflow/internal/estategen"
	"ipflow/model"
)

func TestBatchJSONLinesText(t *testing.T) {
	in := `{"vm":"web-01","direction":"inbound","protocol":"tcp","local":"10.0.1.4:443","remote":"13.107.21.200:60000"}
{"vm":"web-01","direction":"inbound","protocol":"tcp","local":"10.0.1.4:123","remote":"13.107.21.200:60000"}
{"vm":"web-1","direction":"inbound","protocol":"tcp","local":"10.0.1.4:123","remote":"13.107.21.200:60000"}

{"vm":"db-01","direction":"inbound","protocol":"tcp","local":"10.2.1.4:22","remote":"13.107.21.200:60000"}
{"vm":"jump-01","direction":"outbound","protocol":"icmp","local":"10.0.2.4","remote":"8.8.8.8"}
{"vm":"db-01","direction":"inbund","protocol":"tcp","local":"10.2.1.4","remote":"1.1.1.1:1"}
`
	code, out, errOut := runStdin(in, "verify", "--batch")
	want := `line 1: Allow securityRules/allow-https (NSG web-nic-nsg on networkInterface/web-01-nic)
line 2: Deny defaultSecurityRules/DenyAllInBound (NSG web-subnet-nsg on subnet/hub/web)
line 3: error: vm: unknown VM "web-1" (did you mean "web-01"?); known VMs: web-01, web-02, app-01, db-01, jump-01, batch-01, sandbox-01
line 5: Deny securityAdminRules/deny-ssh-from-internet (security admin rules on virtualNetwork/spoke-data)
line 6: Allow (no rule: nothing applies, so every level allows)
line 7: error: direction: "inbund": must be inbound or outbound; local: "10.2.1.4": must be IP:PORT, like 10.0.1.4:443 (the port may be * on the source side)
`
	if code != 2 || out != want || errOut != "ipflow verify --batch: 2 of 6 line(s) had errors\n" {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
}

func TestBatchCSVJSON(t *testing.T) {
	in := "vm,nic,direction,protocol,local,remote\n" +
		"web-01,,inbound,tcp,10.0.1.4:443,13.107.21.200:60000\n" +
		"app-01,app-01-egress-nic,outbound,udp,10.1.2.4:5000,8.8.8.8:53\n" +
		"app-01,app-01-egress-nic,outbound,udp,10.1.2.4:5000\n"
	code, out, _ := runStdin(in, "verify", "--batch", "-o", "json")
	want := `{"line":2,"access":"Allow","ruleName":"securityRules/allow-https","networkSecurityGroup":"web-nic-nsg","appliedTo":"networkInterface/web-01-nic","flow":{"vm":"web-01","direction":"Inbound","protocol":"TCP","local":"10.0.1.4:443","remote":"13.107.21.200:60000"}}
{"line":3,"access":"Allow","ruleName":"defaultSecurityRules/AllowVnetOutBound","networkSecurityGroup":"egress-nsg","appliedTo":"subnet/spoke-app/egress","flow":{"vm":"app-01","nic":"app-01-egress-nic","direction":"Outbound","protocol":"UDP","local":"10.1.2.4:5000","remote":"8.8.8.8:53"}}
{"line":4,"error":"5 fields; the header has 6 columns"}
`
	if code != 2 || out != want {
		t.Errorf("exit %d:\n%s\nwant:\n%s", code, out, want)
	}
}

func TestBatchErrors(t *testing.T) {
	cases := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"vm,dir\nweb-01,inbound\n", []string{"verify", "--batch"}, "ipflow verify --batch: line 1: CSV header: unknown column \"dir\""},
		{"", []string{"verify", "--batch", "--vm", "web-01"}, "--batch reads the flows from stdin; leave out --vm"},
		{"", []string{"verify", "--batch", "-f", "/nonexistent/env.toml"}, "/nonexistent/env.toml"},
	}
	for _, c := range cases {
		code, out, errOut := runStdin(c.stdin, c.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out, errOut)
		}
	}
	if code, out, errOut := runStdin("", "verify", "--batch"); code != 0 || out != "" || errOut != "" {
		t.Errorf("empty input: exit %d, %q, %q", code, out, errOut)
	}
}

// randomFlows writes n flows on env: mostly the VMs' own addresses, sometimes a wrong VM, NIC,
// address or port, so that both verdicts and errors are compared.
func randomFlows(env *model.Environment, n int, rng *rand.Rand) []flows.Fields {
	protos := []string{"tcp", "udp", "icmp", "esp", "ah"}
	out := make([]flows.Fields, n)
	for i := range out {
		vm := env.VMs[rng.IntN(len(env.VMs))]
		nic := vm.NICs[rng.IntN(len(vm.NICs))]
		ipc := nic.IPConfigs[rng.IntN(len(nic.IPConfigs))]
		f := flows.Fields{VM: vm.Name, Direction: []string{"inbound", "outbound"}[rng.IntN(2)], Protocol: protos[rng.IntN(len(protos))]}
		if rng.IntN(4) == 0 {
			f.NIC = nic.Name
		}
		local := ipc.PrivateIP.String()
		remote := fmt.Sprintf("%d.%d.%d.%d", []int{10, 13, 20, 192, 8}[rng.IntN(5)], rng.IntN(256), rng.IntN(256), rng.IntN(256))
		port := func() string {
			return fmt.Sprint([]int{22, 80, 443, 1433, 3389, 8080, 1000 + rng.IntN(200), rng.IntN(65536)}[rng.IntN(8)])
		}
		f.Local, f.Remote = local+":"+port(), remote+":"+port()
		switch rng.IntN(40) {
		case 0:
			f.VM += "x"
		case 1:
			f.Local = remote + ":80"
		case 2:
			f.NIC = "no-such-nic"
		case 3:
			f.Remote = remote + ":*"
		}
		out[i] = f
	}
	return out
}

// Batch results agree with engine.Verify, flow by flow, on a random estate: the verdict, the
// deciding rule and layer, and for flows that cannot be evaluated, the error.
func TestBatchAgreesWithVerify(t *testing.T) {
	for _, env := range []*model.Environment{
		model.MustLoad(fixtures.Sample()...),
		model.MustLoad(model.Source{Name: "gen.toml", Data: estategen.Large(300, 20, 40)}),
	} {
		e := engine.Compile(env)
		rng := rand.New(rand.NewPCG(uint64(len(env.VMs)), 7))
		fs := randomFlows(env, 3000, rng)
		var in bytes.Buffer
		for _, f := range fs {
			data, _ := json.Marshal(map[string]string{"vm": f.VM, "nic": f.NIC, "direction": f.Direction, "protocol": f.Protocol, "local": f.Local, "remote": f.Remote})
			in.Write(bytes.Replace(data, []byte(`"nic":"",`), nil, 1))
			in.WriteByte('\n')
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		n, bad, err := batch(e, flows.NewLineReader(&in), true, w)
		w.Flush()
		if err != nil || n != len(fs) {
			t.Fatalf("%d flows, err %v", n, err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		verdicts, errs := 0, 0
		for i, f := range fs {
			var got struct {
				Line                                                     int
				Access, RuleName, NetworkSecurityGroup, AppliedTo, Error string
			}
			if err := json.Unmarshal([]byte(lines[i]), &got); err != nil || got.Line != i+1 {
				t.Fatalf("line %d: %v %s", i+1, err, lines[i])
			}
			fl, ferrs := f.Parse()
			if len(ferrs) > 0 { // a * destination port: refused before the engine is asked
				errs++
				if want := fieldErrors(ferrs).Error(); got.Error != want || !strings.Contains(want, "port * is not allowed") {
					t.Errorf("line %d: error %q, want %q", i+1, got.Error, want)
				}
				continue
			}
			res, verr := e.Verify(fl)
			if verr != nil {
				errs++
				if got.Error != withField(verr).Error() || !strings.HasSuffix(got.Error, ": "+verr.Error()) {
					t.Errorf("line %d: error %q, Verify says %q", i+1, got.Error, verr)
				}
				continue
			}
			verdicts++
			nsg, applied := "", ""
			if res.Layer != nil {
				applied = res.Layer.AppliedTo
				if res.Layer.NSG != nil {
					nsg = res.Layer.NSG.Name
				}
			}
			if got.Access != res.Access.String() || got.RuleName != res.RuleName() || got.NetworkSecurityGroup != nsg || got.AppliedTo != applied {
				t.Errorf("line %d (%+v): batch %+v, Verify %s %s %s %s", i+1, f, got, res.Access, res.RuleName(), nsg, applied)
			}
		}
		if bad != errs || verdicts < len(fs)*3/4 || errs == 0 {
			t.Errorf("%d verdicts, %d errors, batch counted %d bad", verdicts, errs, bad)
		}
	}
}

// BenchmarkBatch measures verify --batch after the load: flows read, evaluated and written per
// second, on the sample, for JSON-lines and CSV input and text (verdict only) or JSON output.
func BenchmarkBatch(b *testing.B) {
	env := model.MustLoad(fixtures.Sample()...)
	e := engine.Compile(env)
	rng := rand.New(rand.NewPCG(1, 2))
	var fs []flows.Fields
	for _, f := range randomFlows(env, 12000, rng) {
		if fl, errs := f.Parse(); len(errs) == 0 && len(fs) < 10000 {
			if _, err := e.Decide(fl); err == nil {
				fs = append(fs, f) // valid flows: the throughput of answers, not of error messages
			}
		}
	}
	var jsonIn, csvIn bytes.Buffer
	csvIn.WriteString("vm,nic,direction,protocol,local,remote\n")
	for _, f := range fs {
		data, _ := json.Marshal(map[string]string{"vm": f.VM, "direction": f.Direction, "protocol": f.Protocol, "local": f.Local, "remote": f.Remote})
		jsonIn.Write(data)
		jsonIn.WriteByte('\n')
		fmt.Fprintf(&csvIn, "%s,%s,%s,%s,%s,%s\n", f.VM, f.NIC, f.Direction, f.Protocol, f.Local, f.Remote)
	}
	for _, c := range []struct {
		name   string
		in     []byte
		asJSON bool
	}{{"jsonl-text", jsonIn.Bytes(), false}, {"jsonl-json", jsonIn.Bytes(), true}, {"csv-text", csvIn.Bytes(), false}, {"csv-json", csvIn.Bytes(), true}} {
		b.Run(c.name, func(b *testing.B) {
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			flowsDone := 0
			for b.Loop() {
				n, _, err := batch(e, flows.NewLineReader(bytes.NewReader(c.in)), c.asJSON, w)
				if err != nil || n != len(fs) {
					b.Fatal(n, err)
				}
				flowsDone += n
			}
			b.ReportMetric(float64(flowsDone)/b.Elapsed().Seconds(), "flows/s")
		})
	}
}

// Names and values from the input or the estate never reach the output raw: not in text, not
// in JSON (encoding/json alone leaves bidi controls raw).
func TestBatchHostileInput(t *testing.T) {
	estate := filepath.Join(t.TempDir(), "hostile.toml")
	os.WriteFile(estate, []byte("[[vnet]]\nname = \"v\"\naddress_space = [\"10.0.0.0/16\"]\n  [[vnet.subnet]]\n  name = \"s\"\n  prefix = \"10.0.1.0/24\"\n"+
		"[[vm]]\nname = \"web\\u202e01\"\n  [[vm.nic]]\n  name = \"nic\"\n  private_ip = \"10.0.1.4\"\n  subnet = \"v/s\"\n"), 0o644)
	in := "{\"vm\":\"web\\u202e01\",\"direction\":\"inbound\",\"protocol\":\"tcp\",\"local\":\"10.0.1.4:443\",\"remote\":\"1.1.1.1:1\"}\n" +
		"{\"vm\":\"web-01\\u202e\\u001b[31m\",\"direction\":\"inbound\",\"protocol\":\"tcp\",\"local\":\"10.0.1.4:443\",\"remote\":\"1.1.1.1:1\"}\n" +
		"{\"vm\":\"web-01\",\"direction\":\"in\u202ebound\",\"protocol\":\"tcp\",\"local\":\"10.0.1.4:443\",\"remote\":\"1.1.1.1:1\"}\n"
	for _, o := range []string{"text", "json"} {
		code, out, errOut := runStdin(in, "verify", "--batch", "-f", estate, "-o", o)
		if code != 2 || strings.Count(out, "\n") != 3 {
			t.Fatalf("-o %s: exit %d, %s:\n%s", o, code, errOut, out)
		}
		if strings.ContainsAny(out, "\u202e\x1b") {
			t.Errorf("-o %s: raw control characters in %q", o, out)
		}
		if o == "json" && !strings.Contains(out, `"vm":"web\u202e01"`) {
			t.Errorf("the VM's name is not escaped as JSON: %s", out)
		}
	}
}
