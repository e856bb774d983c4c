package flows

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

type readLine struct {
	n      int
	fields Fields
	err    string
}

func readAll(t *testing.T, r io.Reader) ([]readLine, error) {
	t.Helper()
	lr := NewLineReader(r)
	var out []readLine
	for {
		l, ok := lr.Next()
		if !ok {
			return out, lr.Err()
		}
		rl := readLine{n: l.N, fields: l.Fields}
		if l.Err != nil {
			rl.err = l.Err.Error()
		}
		out = append(out, rl)
	}
}

var web = Fields{VM: "web-01", Direction: "inbound", Protocol: "tcp", Local: "10.0.1.4:443", Remote: "1.2.3.4:5"}

func TestLineReaderJSON(t *testing.T) {
	in := "\uFEFF" + `{"vm":"web-01","direction":"inbound","protocol":"tcp","local":"10.0.1.4:443","remote":"1.2.3.4:5"}` + "\r\n" +
		"\n   \n" +
		`  { "vm" : "web\u002d01" , "nic":"n\"1", "direction":"inbound","protocol":"tcp","local":"10.0.1.4:443","remote":"1.2.3.4:5" }  ` + "\n" +
		`{"vm":"web-01","vmm":"x"}` + "\n" +
		`{"vm":"web-01","nic":1}` + "\n" +
		`{"vm":"a","vm":"b"}` + "\n" +
		`{"vm":"a"} {"vm":"b"}` + "\n" +
		`{"vm":"a` + "\n" +
		`{"vm":"a` + "\x01" + `"}` + "\n" +
		`{"vm":"a` + "\xff" + `"}` + "\n" +
		`{"vm":"a\q"}` + "\n" +
		`{"vm" "a"}` + "\n" +
		`{"vm":"a" "nic":"b"}` + "\n" +
		`{vm:"a"}` + "\n" +
		`{"foo":"a"}` + "\n" +
		`{}` + "\n" +
		`vm,direction` + "\n" +
		`{"remote":[1]}` // no newline at the end
	got, err := readAll(t, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	web2 := web
	web2.NIC = `n"1`
	want := []readLine{
		{n: 1, fields: web},
		{n: 4, fields: web2},
		{n: 5, err: `unknown field "vmm" (did you mean vm?)`},
		{n: 6, err: `nic: expected a string, got a number`},
		{n: 7, err: `field vm appears twice`},
		{n: 8, err: `JSON: more after the object (one object per line)`},
		{n: 9, err: `JSON: a string is not closed`},
		{n: 10, err: `JSON: a control character in a string (write it escaped)`},
		{n: 11, err: `JSON: a string is not valid UTF-8`},
		{n: 12, err: `JSON: a string has a bad escape`},
		{n: 13, err: `JSON: expected ':' after "vm"`},
		{n: 14, err: `JSON: expected ',' or '}' after a value`},
		{n: 15, err: `JSON: expected a string in double quotes`},
		{n: 16, err: `unknown field "foo"; fields are vm, nic, direction, protocol, local and remote`},
		{n: 17, fields: Fields{}},
		{n: 18, err: `not a JSON object`},
		{n: 19, err: `remote: expected a string, got an array`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.n != w.n || g.err != w.err || (w.err == "" && g.fields != w.fields) {
			t.Errorf("line %d:\n got %d %+v %q\nwant %d %+v %q", i, g.n, g.fields, g.err, w.n, w.fields, w.err)
		}
	}
}

func TestLineReaderCSV(t *testing.T) {
	in := "Remote, vm ,direction,protocol,local\n" +
		"1.2.3.4:5,web-01,inbound,tcp,10.0.1.4:443\r\n" +
		"\n" +
		`"1.2.3.4:5","web-01","inbound","tcp","10.0.1.4:443"` + "\n" +
		"1.2.3.4:5,web-01,inbound,tcp\n" +
		`"1.2.3.4:5,web-01` + "\n" +
		"a,b,c,d,\xff\n" +
		" 1.2.3.4:5 , web-01 , inbound , tcp , 10.0.1.4:443 "
	got, err := readAll(t, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []readLine{
		{n: 2, fields: web},
		{n: 4, fields: web},
		{n: 5, err: "4 fields; the header has 5 columns"},
		{n: 6, err: `CSV: extraneous or missing " in quoted-field`},
		{n: 7, err: "not valid UTF-8"},
		{n: 8, fields: web},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.n != w.n || g.err != w.err || (w.err == "" && g.fields != w.fields) {
			t.Errorf("line %d:\n got %d %+v %q\nwant %d %+v %q", i, g.n, g.fields, g.err, w.n, w.fields, w.err)
		}
	}
}

// A bad CSV header stops the reader: no line after it could be read right.
func TestLineReaderCSVHeaderErrors(t *testing.T) {
	cases := map[string]string{
		"\n\nvm,nicc,direction,protocol,local,remote,vm\n1,2,3,4,5,6,7\n": `line 3: CSV header: unknown column "nicc" (did you mean nic?); column vm appears twice; the header names the columns: vm,nic,direction,protocol,local,remote (nic optional), or write JSON objects, one per line`,
		"vm,local\n":             "line 1: CSV header: no direction column; no protocol column; no remote column;",
		"vm,\"local\n":           `line 1: CSV header: CSV: extraneous or missing " in quoted-field`,
		"vm,direction,\xff\n":    "line 1: the CSV header is not valid UTF-8",
		"web-01,inbound,tcp,1\n": `line 1: CSV header: unknown column "web-01"`,
	}
	for in, want := range cases {
		got, err := readAll(t, strings.NewReader(in))
		if err == nil || !strings.HasPrefix(err.Error(), want) || len(got) != 0 {
			t.Errorf("%q: %d lines, err %v\nwant %s", in, len(got), err, want)
		}
	}
}

// A line longer than MaxLineLen is an error for that line, and the next lines are read.
func TestLineReaderLongLine(t *testing.T) {
	line := `{"vm":"web-01","direction":"inbound","protocol":"tcp","local":"10.0.1.4:443","remote":"1.2.3.4:5"}`
	in := line + "\n" + `{"vm":"` + strings.Repeat("x", 3*MaxLineLen) + `"}` + "\n" + line + "\n"
	got, err := readAll(t, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].err != "" || got[1].err != "line is longer than 64 KiB" || got[1].n != 2 || got[2].err != "" || got[2].n != 3 {
		t.Errorf("%+v", got)
	}
}

type failingReader struct{ data io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// A read error stops the reader and says after which line.
func TestLineReaderReadError(t *testing.T) {
	got, err := readAll(t, &failingReader{strings.NewReader("{}\n{}\n")})
	if len(got) != 2 || err == nil || err.Error() != "after line 2: disk on fire" {
		t.Errorf("%d lines, err %v", len(got), err)
	}
}

// parseJSONLine agrees with encoding/json: whatever it accepts, encoding/json decodes to the
// same fields, and every object of string fields encoding/json writes, it reads back.
func FuzzParseJSONLine(f *testing.F) {
	for _, s := range []string{`{"vm":"a"}`, `{"vm":"a\n\u00e9\ud83d\ude00"}`, `{ }`, `{"nic":"\\\""}`, `{"vm":"a",}`, `{"vm":"a"}x`, `{"vm":"\u0000"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := parseJSONLine([]byte(s), bytesString)
		if err == nil {
			var m map[string]string
			if jerr := json.Unmarshal([]byte(s), &m); jerr != nil {
				t.Fatalf("accepted %q, which encoding/json rejects: %v", s, jerr)
			}
			for i, k := range FieldNames {
				if m[k] != *fields.field(i) {
					t.Fatalf("%q: %s = %q, encoding/json says %q", s, k, *fields.field(i), m[k])
				}
			}
		}
		// Round trip: what encoding/json writes is read back.
		in := Fields{VM: s, NIC: s + "x", Remote: s}
		data, _ := json.Marshal(map[string]string{"vm": in.VM, "nic": in.NIC, "remote": in.Remote})
		back, err := parseJSONLine(data, bytesString)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if back != in && strings.ToValidUTF8(s, "\uFFFD") == s {
			t.Fatalf("%s: read back %+v", data, back)
		}
	})
}

func bytesString(b []byte) string { return string(b) }
