package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// rawHostile reports the first byte sequence of out that no output may hold: a C0 control other
// than newline and tab, DEL, a C1 control, a bidi control or the line separators, or invalid
// UTF-8.
func rawHostile(out []byte) (string, bool) {
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRune(out[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Sprintf("invalid UTF-8 %#x at %d", out[i], i), true
		case (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0),
			r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069),
			r == 0x2028 || r == 0x2029:
			return fmt.Sprintf("%U at %d", r, i), true
		}
		i += n
	}
	return "", false
}

// hostileInputs are random byte strings and random deep or wide structures, up to 1 MB, seeded so
// that a failure can be reproduced.
func hostileInputs(seed uint64) map[string][]byte {
	rng := rand.New(rand.NewPCG(seed, 9))
	bytesOf := func(n int, alphabet string) []byte {
		b := make([]byte, n)
		for i := range b {
			if alphabet == "" {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		return b
	}
	deep := func(n int, open, close string) []byte {
		return []byte("x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\n")
	}
	hostile := "\x1b]52;c;aGk=\x07\x1b[2J\u009b31m\u202e\u2066\x7f"
	var wide strings.Builder
	for i := 0; wide.Len() < 1<<20; i++ {
		fmt.Fprintf(&wide, "[[vnet]]\nname = \"v%d%s\"\naddress_space = [\"10.%d.0.0/16\"]\npeerings = [\"n%s%d\"]\n", i, hostile, i%256, hostile, i)
	}
	var unknown strings.Builder
	for i := 0; unknown.Len() < 1<<20; i++ {
		fmt.Fprintf(&unknown, "[t%d%s]\n", i, strings.ReplaceAll(hostile, "\x1b", "\\u001b"))
	}
	return map[string][]byte{
		"random bytes 1 KB":            bytesOf(1<<10, ""),
		"random bytes 1 MB":            bytesOf(1<<20, ""),
		"random TOML punctuation 1 MB": bytesOf(1<<20, "[]{}=.\"'\n ,abc1#\\"),
		"inline tables 100,000 deep":   deep(100000, "{a=", "}"),
		"arrays 300,000 deep":          deep(300000, "[", "]"),
		"dotted keys 1 MB":             append(bytes.Repeat([]byte("a."), 1<<19), " = 1\n"...),
		"headers 1 MB":                 bytes.Repeat([]byte("[a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a]\n"), 1<<14),
		"hostile names 1 MB":           []byte(wide.String()),
		"unknown tables 1 MB":          []byte(unknown.String()),
		"a 1 MB name":                  []byte("[[nsg]]\nname = \"" + strings.Repeat("\u202en", 1<<18) + "\"\n"),
	}
}

// TestHostileInputsProperty: for random byte strings and random deep or wide structures up to
// 1 MB, `ipflow check` finishes in under a second of CPU and under 200 MB, exits 1 or 2, and
// writes no raw control, bidi or invalid byte. The binary runs as its own process, so time and
// memory are its own (user+system CPU and peak RSS), whatever else the machine is doing.
func TestHostileInputsProperty(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for name, data := range hostileInputs(seed) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".toml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd := exec.Command(bin, "check", "--no-cache", "-f", path)
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || (ee.ExitCode() != 1 && ee.ExitCode() != 2) {
				t.Fatalf("exit: %v\n%.500s", err, out.Bytes())
			}
			ps := cmd.ProcessState
			cpu := ps.UserTime() + ps.SystemTime()
			ru, _ := ps.SysUsage().(*syscall.Rusage)
			if cpu > time.Second {
				t.Errorf("%v of CPU", cpu)
			}
			if ru != nil && ru.Maxrss > 200<<10 { // KiB
				t.Errorf("peak RSS %d MiB", ru.Maxrss>>10)
			}
			if what, bad := rawHostile(out.Bytes()); bad {
				t.Errorf("raw %s in the output:\n%.300q", what, out.Bytes())
			}
			if out.Len() > 1<<20 {
				t.Errorf("%d bytes of output", out.Len())
			}
		})
	}
}

// TestHostileFileNames: a directory holding a broken symlink or an unreadable file whose name
// carries OSC 52, a clear-screen, C1 and bidi controls is reported with the name escaped, by check
// and by import.
func TestHostileFileNames(t *testing.T) {
	dir := t.TempDir()
	name := "X\x1b]52;c;aGk=\a\x1b[2J\u009b\u202e"
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, name+".toml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, name+".json")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "-f", dir}, {"verify", "-f", dir, "--vm", "x", "--direction", "inbound", "--protocol", "tcp", "--local", "10.0.0.4:80", "--remote", "8.8.8.8:5000"}, {"import", dir}} {
		var out bytes.Buffer
		code := run(args, &out, &out)
		if code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
		if what, bad := rawHostile(out.Bytes()); bad || !strings.Contains(out.String(), `X\x1b]52;c;aGk=\a\x1b[2J\u009b\u202e`) {
			t.Errorf("%v: raw %s or not escaped:\n%q", args, what, out.String())
		}
	}
}

// TestHostileNamesInJSON: verify -o json writes C1 and bidi controls in names as \u escapes.
func TestHostileNamesInJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.toml")
	fixture := "[[vnet]]\nname = \"hub\"\naddress_space = [\"10.0.0.0/16\"]\n  [[vnet.subnet]]\n  name = \"web\"\n  prefix = \"10.0.1.0/24\"\n" +
		"[[vm]]\nname = \"web\\u202e10-\"\n  [[vm.nic]]\n  name = \"nic\\u009b2J\\u2066\\u007f\"\n  private_ip = \"10.0.1.4\"\n  subnet = \"hub/web\"\n"
	if err := os.WriteFile(path, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"json", "text"} {
		var out, errOut bytes.Buffer
		code := run([]string{"verify", "-f", path, "--vm", "web\u202e10-", "--direction", "inbound", "--protocol", "tcp",
			"--local", "10.0.1.4:443", "--remote", "8.8.8.8:5000", "-o", output}, &out, &errOut)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", output, code, errOut.String())
		}
		if what, bad := rawHostile(out.Bytes()); bad {
			t.Errorf("-o %s: raw %s:\n%q", output, what, out.String())
		}
		if output == "json" && !strings.Contains(out.String(), `"vm":"web\u202e10-","nic":"nic\u009b2J\u2066\u007f"`) {
			t.Errorf("json:\n%s", out.String())
		}
	}
}
