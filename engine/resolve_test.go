package engine_test

import (
	"errors"
	"strings"
	"testing"

	"ipflow/engine"
	"ipflow/model"
)

func TestResolutionErrors(t *testing.T) {
	e := estate(t, "none", "", "")
	cases := []struct {
		name, fact, flow, nic string
		field                 string
		want                  []string
	}{
		{name: "deallocated VM", fact: "§1.1 [D10] 'IP flow verify requires that the VM resource is allocated'", flow: "parked inbound tcp 10.0.1.20:22 10.0.1.4:5000",
			field: "vm", want: []string{`VM "parked" is deallocated`, "requires that the VM is allocated"}},
		{name: "unknown VM suggests a close name", flow: "vm3 inbound tcp 10.0.1.4:22 10.0.1.9:5000",
			field: "vm", want: []string{`unknown VM "vm3"`, `did you mean "vm1"?`, "known VMs: vm1, vm2, tunnel-vm"}},
		{name: "unknown NIC lists the VM's NICs", flow: "vm1 inbound tcp 10.0.1.4:22 10.0.1.9:5000", nic: "nic9",
			field: "nic", want: []string{`VM "vm1" has no NIC "nic9"`, "nic1 (10.0.1.4, 10.0.1.5), nic1b (10.0.4.4)"}},
		{name: "local IP on another NIC of the VM", flow: "vm1 inbound tcp 10.0.4.4:22 10.0.1.9:5000", nic: "nic1",
			field: "local", want: []string{`local IP 10.0.4.4 is not on NIC "nic1"`}},
		{name: "local IP on no NIC of the VM", flow: "vm1 inbound tcp 10.0.1.99:22 10.0.1.9:5000",
			field: "local", want: []string{"local IP 10.0.1.99 belongs to no NIC of VM \"vm1\"", "nic1 (10.0.1.4, 10.0.1.5)"}},
		{name: "* local port inbound", fact: "§5.2 [S1][C1] * only for the source-side port", flow: "vm1 inbound tcp 10.0.1.4:* 10.0.1.9:5000",
			field: "local", want: []string{"local port * is not allowed inbound"}},
		{name: "* remote port outbound", flow: "vm1 outbound tcp 10.0.1.4:5000 10.0.1.9:*",
			field: "remote", want: []string{"remote port * is not allowed outbound"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := flow(t, c.flow)
			f.NIC = c.nic
			_, err := e.Verify(f)
			var ie *engine.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%s: want an InputError, got %v", c.fact, err)
			}
			if ie.Field != c.field {
				t.Errorf("field %q, want %q (%v)", ie.Field, c.field, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not say %q", err, w)
				}
			}
			if _, err2 := e.Decide(f); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Decide error %v, want %v", err2, err)
			}
		})
	}
}

func TestSourcePortStarAccepted(t *testing.T) {
	// §5.2 [C1] "'*' can be used for port when direction is outbound" (--local) and inbound (--remote).
	e := estate(t, "none", "", "")
	for _, s := range []string{"vm1 inbound tcp 10.0.1.4:22 10.0.1.9:*", "vm1 outbound tcp 10.0.1.4:* 10.0.1.9:443"} {
		if _, err := e.Verify(flow(t, s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestNICChosenByLocalIP(t *testing.T) {
	// Without --nic, the NIC is the one whose IP configuration holds the local IP.
	e := estate(t, "", "none", "")
	for ip, want := range map[string]string{"10.0.1.4": "nic1/ipconfig1", "10.0.1.5": "nic1/ipconfig2", "10.0.4.4": "nic1b/ipconfig1"} {
		res, err := e.Verify(flow(t, "vm1 outbound tcp "+ip+":5000 10.0.1.9:443"))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.NIC.Name + "/" + res.IPConfig.Name; got != want || res.Flow.NIC != res.NIC.Name {
			t.Errorf("local %s: evaluated %s (flow NIC %q), want %s", ip, got, res.Flow.NIC, want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	good := map[string]string{"10.0.1.4:443": "10.0.1.4 443", "10.0.1.4:*": "10.0.1.4 *", " 1.2.3.4:0 ": "1.2.3.4 0", "1.2.3.4:65535": "1.2.3.4 65535"}
	for in, want := range good {
		a, p, err := engine.ParseEndpoint(in)
		if err != nil || a.String()+" "+p.String() != want {
			t.Errorf("ParseEndpoint(%q) = %v %v %v, want %s", in, a, p, err, want)
		}
	}
	bad := map[string]string{
		"10.0.1.4":        "must be IP:PORT",
		"10.0.1.4:70000":  "out of range 0..65535",
		"10.0.1.4:-1":     "must be a single port",
		"10.0.1.4:80-90":  "must be a single port",
		"[::1]:80":        "IPv6 is not supported yet",
		"fe80::1:80":      "IPv6 is not supported yet",
		"10.0.1:80":       "not an IPv4 address",
		"web-01:80":       "not an IPv4 address",
		"10.0.1.4:":       "must be a single port",
		"10.0.0.0/24:443": "not an IPv4 address",
	}
	for in, want := range bad {
		if _, _, err := engine.ParseEndpoint(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEndpoint(%q) error %v, want it to say %q", in, err, want)
		}
	}
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"10.0.1.4:443", "10.0.1.4:*", "::1:80", "1.2.3.4:99999", ":", "", "1.2.3.4:0x10", "١.2.3.4:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, p, err := engine.ParseEndpoint(s)
		if err != nil {
			return
		}
		if !a.Is4() || p < engine.AnyPort || p > 65535 {
			t.Fatalf("ParseEndpoint(%q) accepted %v %v", s, a, p)
		}
		if back, bp, err := engine.ParseEndpoint(a.String() + ":" + p.String()); err != nil || back != a || bp != p {
			t.Fatalf("round trip of %q: %v %v %v", s, back, bp, err)
		}
	})
}

func FuzzFlowFlags(f *testing.F) {
	// The flow parsers a user reaches through flags: direction, protocol, endpoints, all at once,
	// then evaluation on the sample-like estate. Nothing may panic.
	e := estate(f, "none", "none", "")
	f.Add("inbound", "tcp", "10.0.1.4:443", "13.107.21.200:60000")
	f.Add("OUTBOUND", "Icmp", "10.0.1.5:*", "10.2.0.4:0")
	f.Add("sideways", "any", "10.0.1.4", "x")
	f.Fuzz(func(t *testing.T, dir, proto, local, remote string) {
		d, err1 := model.ParseDirection(dir)
		p, err2 := model.ParseFlowProtocol(proto)
		la, lp, err3 := engine.ParseEndpoint(local)
		ra, rp, err4 := engine.ParseEndpoint(remote)
		if errors.Join(err1, err2, err3, err4) != nil {
			return
		}
		fl := engine.Flow{VM: "vm1", Direction: d, Protocol: p, LocalIP: la, LocalPort: lp, RemoteIP: ra, RemotePort: rp}
		res, err := e.Verify(fl)
		v, derr := e.Decide(fl)
		if (err == nil) != (derr == nil) || (err == nil && v != res.Verdict) {
			t.Fatalf("Verify and Decide disagree on %+v", fl)
		}
		if err == nil {
			if _, err := res.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
