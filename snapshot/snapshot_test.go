package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/internal/estategen"
	"ipflow/internal/randestate"
	"ipflow/model"
)

// estates are the environments the tests round-trip: the sample, generated ones, random ones,
// and one with warnings and IPv6-free oddities (empty lists, no NSGs).
func estates(t testing.TB) map[string][]model.Source {
	t.Helper()
	out := map[string][]model.Source{
		"sample":    fixtures.Sample(),
		"generated": {{Name: "gen.toml", Data: estategen.Large(450, 20, 50)}},
		"warnings": {{Name: "w.toml", Data: []byte(`
[[vnet]]
name = "v"
address_space = ["10.0.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"
[[nsg]]
name = "unused"
[[vm]]
name = "vm"
  [[vm.nic]]
  name = "nic"
  private_ip = "10.0.1.4"
  subnet = "v/s"
`)}},
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 6 {
		out[fmt.Sprintf("random-%d", i)] = []model.Source{{Name: "r.toml", Data: []byte(randestate.Estate(rng))}}
	}
	return out
}

// A snapshot decodes to exactly the environment that was encoded: every field, every pointer
// between resources, nil and empty lists apart.
func TestRoundTrip(t *testing.T) {
	for name, srcs := range estates(t) {
		t.Run(name, func(t *testing.T) {
			env, err := model.Load(srcs...)
			if err != nil {
				t.Fatal(err)
			}
			key := NewKey("test", srcs)
			data, err := Encode(key, env)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(key, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(env, back) {
				t.Fatal("decoded environment differs from the loaded one")
			}
			again, _ := Encode(key, back)
			if !bytes.Equal(data, again) {
				t.Error("re-encoding the decoded environment gives other bytes")
			}
			if name == "warnings" && len(back.Warnings) == 0 {
				t.Error("no warnings in the warnings estate")
			}
		})
	}
}

// The model's types are what the snapshot holds. A field added to them must be encoded too:
// this test lists every field, and fails (saying which) when the model gains or loses one.
func TestModelFieldsAreEncoded(t *testing.T) {
	known := map[string]string{
		"Environment": "Name Description Files ServiceTags VNets NSGs ASGs VMs AdminRules Warnings",
		"VNet":        "Name AddressSpace Peers OnPremPrefixes Subnets Pos",
		"Subnet":      "Name VNet Prefix NSG Routes Pos",
		"NSG":         "Name Rules ResourceGroup Pos",
		"ASG":         "Name Members Pos",
		"VM":          "Name PowerState NICs Pos",
		"NIC":         "Name VM NSG Primary IPForwarding IPConfigs Pos",
		"IPConfig":    "Name NIC PrivateIP Subnet ASGs Primary",
		"Rule":        "Name Kind Priority Direction Access Protocol Source Destination Description Pos",
		"Side":        "Addresses ASGs Ports",
		"Address":     "Kind Prefix Tag",
		"PortRange":   "Lo Hi",
		"AdminRule":   "Rule VNets ResourceGroup",
		"Issue":       "Pos Resource Message Omitted",
		"Pos":         "File Line",
	}
	for _, v := range []any{model.Environment{}, model.VNet{}, model.Subnet{}, model.NSG{}, model.ASG{}, model.VM{},
		model.NIC{}, model.IPConfig{}, model.Rule{}, model.Side{}, model.Address{}, model.PortRange{}, model.AdminRule{},
		model.Issue{}, model.Pos{}} {
		typ := reflect.TypeOf(v)
		var fields []string
		for i := range typ.NumField() {
			fields = append(fields, typ.Field(i).Name)
		}
		if got := strings.Join(fields, " "); got != known[typ.Name()] {
			t.Errorf("model.%s has fields %q; the snapshot encodes %q: encode the change in snapshot/codec.go, then update this list", typ.Name(), got, known[typ.Name()])
		}
	}
}

// verdicts evaluates flows over every VM's addresses and boundary addresses and ports.
func verdicts(t testing.TB, env *model.Environment) string {
	t.Helper()
	e := engine.Compile(env)
	addrs, ports := randestate.Interesting(env)
	slices.SortFunc(addrs, netip.Addr.Compare) // Interesting's order follows map iteration
	slices.Sort(ports)
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for _, vm := range env.VMs {
		for _, nic := range vm.NICs {
			for _, ipc := range nic.IPConfigs {
				for range 20 {
					f := engine.Flow{VM: vm.Name, NIC: nic.Name, Direction: model.Direction(rng.IntN(2)), Protocol: model.Protocol(1 + rng.IntN(5)),
						LocalIP: ipc.PrivateIP, LocalPort: ports[rng.IntN(len(ports))], RemoteIP: addrs[rng.IntN(len(addrs))], RemotePort: ports[rng.IntN(len(ports))]}
					v, err := e.Decide(f)
					fmt.Fprintf(&b, "%v %s %v\n", v.Access, v.RuleName(), err)
				}
			}
		}
	}
	return b.String()
}

// tiny is a small estate whose snapshot is corrupted at every byte.
var tiny = []model.Source{{Name: "tiny.toml", Data: []byte(`
[service_tags]
"Tag.A" = ["20.38.96.0/19"]
[[vnet]]
name = "v"
address_space = ["10.0.0.0/16"]
  [[vnet.subnet]]
  name = "s"
  prefix = "10.0.1.0/24"
  nsg = "g"
[[asg]]
name = "web"
[[nsg]]
name = "g"
  [[nsg.rule]]
  name = "allow-https"
  priority = 100
  direction = "Inbound"
  access = "Allow"
  protocol = "Tcp"
  source = "Internet"
  destination_asgs = ["web"]
  destination_ports = ["443", "8000-8080"]
[[vm]]
name = "vm"
  [[vm.nic]]
  name = "nic"
  private_ip = "10.0.1.4"
  subnet = "v/s"
  asgs = ["web"]
[[admin_rule]]
name = "deny-ssh"
priority = 10
direction = "Inbound"
access = "Deny"
protocol = "Tcp"
source = "*"
destination = "*"
destination_ports = "22"
`)}}

// Every byte of a snapshot corrupted in turn: the cache ignores the snapshot, rebuilds it, and
// every verdict is the same as from the fixtures.
func TestCorruptEveryByte(t *testing.T) {
	c, err := OpenDir(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	env, outcome, err := c.Load(tiny...)
	if err != nil || outcome != Missed {
		t.Fatalf("first load: %v %v", outcome, err)
	}
	want := verdicts(t, env)
	key := NewKey("test", tiny)
	good, err := os.ReadFile(c.path(key))
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(good)
			bad[i] ^= flip
			if err := os.WriteFile(c.path(key), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			env, outcome, err := c.Load(tiny...)
			if err != nil || outcome != Rebuilt {
				t.Fatalf("byte %d ^ %#x: outcome %v, err %v", i, flip, outcome, err)
			}
			if got := verdicts(t, env); got != want {
				t.Fatalf("byte %d ^ %#x: verdicts changed", i, flip)
			}
			if now, _ := os.ReadFile(c.path(key)); !bytes.Equal(now, good) {
				t.Fatalf("byte %d ^ %#x: the snapshot was not rebuilt", i, flip)
			}
		}
	}
}

// The sample's snapshot, every byte corrupted: Decode refuses each one.
func TestDecodeRefusesEveryCorruptByte(t *testing.T) {
	srcs := fixtures.Sample()
	key := NewKey("test", srcs)
	data, err := Encode(key, model.MustLoad(srcs...))
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x5a
		if _, err := Decode(key, bad); err == nil {
			t.Fatalf("byte %d corrupted: decoded", i)
		}
	}
}

// Missing, truncated, foreign and stale snapshots are ignored and rebuilt.
func TestUnusableSnapshotsAreRebuilt(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenDir(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	sample := fixtures.Sample()
	want := verdicts(t, model.MustLoad(sample...))
	load := func(wantOutcome Outcome) {
		t.Helper()
		env, outcome, err := c.Load(sample...)
		if err != nil || outcome != wantOutcome {
			t.Fatalf("outcome %v (want %v), err %v", outcome, wantOutcome, err)
		}
		if verdicts(t, env) != want {
			t.Fatal("verdicts changed")
		}
	}
	load(Missed)
	load(Hit)
	path := c.path(NewKey("test", sample))
	good, _ := os.ReadFile(path)
	for name, data := range map[string][]byte{
		"empty":       {},
		"truncated":   good[:len(good)/2],
		"header only": good[:headerLen],
		"longer":      append(bytes.Clone(good), 0),
		"foreign":     append([]byte("PK\x03\x04"), good[4:]...),
		"newer format": func() []byte {
			b := bytes.Clone(good)
			b[len(magic)]++
			return b
		}(),
	} {
		os.WriteFile(path, data, 0o600)
		t.Run(name, func(t *testing.T) { load(Rebuilt); load(Hit) })
	}
	// Stale: another estate's snapshot under this estate's name (as if the fixtures changed).
	other := []model.Source{{Name: sample[0].Name, Data: bytes.Replace(sample[0].Data, []byte("priority = 100"), []byte("priority = 101"), 1)}}
	if _, _, err := c.Load(other...); err != nil {
		t.Fatal(err)
	}
	otherData, _ := os.ReadFile(c.path(NewKey("test", other)))
	os.WriteFile(path, otherData, 0o600)
	load(Rebuilt)
	// Another build's snapshot of the same files is another key: not read.
	c2, _ := OpenDir(dir, "other build")
	if _, outcome, _ := c2.Load(sample...); outcome != Missed {
		t.Errorf("another build: %v", outcome)
	}
	// Estates with errors are not stored.
	bad := []model.Source{{Name: "bad.toml", Data: []byte("[[vm]]\nname = 1\n")}}
	if _, outcome, err := c.Load(bad...); err == nil || outcome != Missed {
		t.Errorf("bad estate: %v %v", outcome, err)
	}
	if _, err := os.Stat(c.path(NewKey("test", bad))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a snapshot of an estate with errors: %v", err)
	}
}

// The cache directory is 0700 and snapshots are 0600; no temporary file is left.
func TestPermissions(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", filepath.Join(t.TempDir(), "cache"))
	t.Setenv("HOME", t.TempDir())
	c, err := Open("test")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Load(fixtures.Sample()...); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.Dir())
	if err != nil || fi.Mode().Perm() != 0o700 || filepath.Base(c.Dir()) != "ipflow" {
		t.Fatalf("%s: %v %v", c.Dir(), fi.Mode(), err)
	}
	entries, _ := os.ReadDir(c.Dir())
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".snap") {
		t.Fatalf("cache holds %v", entries)
	}
	info, _ := entries[0].Info()
	if info.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v", info.Mode())
	}
}

// Concurrent runs writing the same snapshot leave one whole snapshot and no temporary files.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	srcs := []model.Source{{Name: "gen.toml", Data: estategen.Large(300, 20, 40)}}
	want := verdicts(t, model.MustLoad(srcs...))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := OpenDir(dir, "test")
			if err != nil {
				t.Error(err)
				return
			}
			for range 3 {
				if _, _, err := c.Load(srcs...); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d files", len(entries))
	}
	c, _ := OpenDir(dir, "test")
	env, outcome, err := c.Load(srcs...)
	if err != nil || outcome != Hit || verdicts(t, env) != want {
		t.Fatalf("after concurrent writers: %v %v", outcome, err)
	}
}

// With Async, the snapshot is written in the background; after Wait it is there and whole.
func TestAsyncStore(t *testing.T) {
	c, _ := OpenDir(t.TempDir(), "test")
	c.Async = true
	env, outcome, err := c.Load(tiny...)
	if err != nil || outcome != Missed {
		t.Fatal(outcome, err)
	}
	want := verdicts(t, env)
	c.Wait()
	env, outcome, err = c.Load(tiny...)
	if err != nil || outcome != Hit || verdicts(t, env) != want {
		t.Fatalf("after Wait: %v %v", outcome, err)
	}
	var nilCache *Cache
	nilCache.Wait() // a nil cache has nothing to wait for
}

// The directory keeps the Keep most recently used snapshots.
func TestPrune(t *testing.T) {
	c, _ := OpenDir(t.TempDir(), "test")
	c.Keep = 3
	for i := range 6 {
		src := model.Source{Name: "e.toml", Data: fmt.Appendf(nil, "[environment]\nname = \"e%d\"\n", i)}
		if _, _, err := c.Load(src); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(c.Dir())
	if len(entries) != 3 {
		t.Errorf("%d snapshots kept", len(entries))
	}
}

// The payload decoder never panics and never allocates beyond its input's size, whatever the
// bytes (the checksum normally keeps such bytes away from it).
func FuzzDecodePayload(f *testing.F) {
	for _, srcs := range [][]model.Source{tiny, fixtures.Sample()} {
		f.Add(encodePayload(model.MustLoad(srcs...)))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if env, err := decodePayload(b); err == nil {
			engine.Compile(env) // what decodes is a linked environment the engine compiles
		}
	})
}

// Every corrupted payload byte (bypassing the checksum): decoding fails or gives an
// environment that compiles; it never panics.
func TestDecodePayloadCorruptBytes(t *testing.T) {
	good := encodePayload(model.MustLoad(tiny...))
	for i := range good {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			bad := bytes.Clone(good)
			bad[i] = v
			if env, err := decodePayload(bad); err == nil {
				engine.Compile(env)
			}
		}
	}
	for n := range good {
		if _, err := decodePayload(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: decoded", n)
		}
	}
}

// TestLoadFiles: a warm start hashes the files without reading them into memory, with the very
// key of the bytes a cold start reads (FileKey == NewKey), so that each finds the other's
// snapshot; a file changed since the snapshot, a corrupt snapshot or an unreadable file is
// never answered from the cache.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenDir(filepath.Join(dir, "cache"), "test")
	if err != nil {
		t.Fatal(err)
	}
	sample := fixtures.Sample()[0].Data
	a, b := filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.toml")
	cut := bytes.Index(sample, []byte("\n[[vm]]")) + 1
	os.WriteFile(a, sample[:cut], 0o644)
	os.WriteFile(b, sample[cut:], 0o644)
	files, _, err := model.ListPaths([]string{dir}, 0)
	if err != nil || len(files) != 2 {
		t.Fatalf("%v %v", files, err)
	}
	srcs, _ := model.ReadFiles(files, 0, nil)
	key, err := FileKey("test", files, 0)
	if err != nil || key != NewKey("test", srcs) {
		t.Fatalf("FileKey %v (%v) is not NewKey %v", key, err, NewKey("test", srcs))
	}
	want := verdicts(t, model.MustLoad(srcs...))
	load := func(wantOutcome Outcome, wantVerdicts string) {
		t.Helper()
		read := 0
		env, outcome, err := c.LoadFiles(files, 0, func(n int, _ int64) { read = n })
		if err != nil || outcome != wantOutcome {
			t.Fatalf("outcome %v (want %v), err %v", outcome, wantOutcome, err)
		}
		if (outcome == Hit) != (read == 0) {
			t.Errorf("outcome %v, %d files read", outcome, read)
		}
		if verdicts(t, env) != wantVerdicts {
			t.Fatal("verdicts differ from the files'")
		}
	}
	load(Missed, want)
	load(Hit, want)
	if _, outcome, _ := c.Load(srcs...); outcome != Hit {
		t.Errorf("Load of the same bytes: %v", outcome)
	}

	// A changed file: another key, read and stored anew; the old answer is not given.
	changed := bytes.Replace(sample[:cut], []byte("access = \"Allow\""), []byte("access = \"Deny\""), -1)
	os.WriteFile(a, changed, 0o644)
	srcs2, _ := model.ReadFiles(files, 0, nil)
	want2 := verdicts(t, model.MustLoad(srcs2...))
	if want2 == want {
		t.Fatal("the change changes no verdict")
	}
	load(Missed, want2)
	load(Hit, want2)

	// A corrupt snapshot: rebuilt from the files.
	path := c.path(NewKey("test", srcs2))
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 1
	os.WriteFile(path, data, 0o600)
	load(Rebuilt, want2)

	// Over the size limit or gone: the reading's error, as without a cache.
	if _, _, err := c.LoadFiles(files, 10, nil); err == nil || !strings.Contains(err.Error(), "over the 10 bytes limit") {
		t.Errorf("over the limit: %v", err)
	}
	os.Remove(a)
	if _, _, err := c.LoadFiles(files, 0, nil); err == nil || !strings.Contains(err.Error(), "a.toml") {
		t.Errorf("a removed file: %v", err)
	}
}

// With Later, nothing is written until Wait, which writes it; a second load before then is a
// miss again (and is written once more, harmlessly).
func TestLaterStore(t *testing.T) {
	c, _ := OpenDir(t.TempDir(), "test")
	c.Later = true
	env, outcome, err := c.Load(tiny...)
	if err != nil || outcome != Missed {
		t.Fatal(outcome, err)
	}
	if _, err := os.Stat(c.path(NewKey("test", tiny))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stored before Wait: %v", err)
	}
	want := verdicts(t, env)
	c.Wait()
	env, outcome, err = c.Load(tiny...)
	if err != nil || outcome != Hit || verdicts(t, env) != want {
		t.Fatalf("after Wait: %v %v", outcome, err)
	}
}

// A load after Wait (a server reloading while it exits) answers but stores nothing: the process
// is exiting, and a store would race Wait.
func TestLoadAfterWaitStoresNothing(t *testing.T) {
	for _, mode := range []string{"async", "later"} {
		c, _ := OpenDir(t.TempDir(), "test")
		c.Async, c.Later = mode == "async", mode == "later"
		c.Wait()
		if _, outcome, err := c.Load(tiny...); err != nil || outcome != Missed {
			t.Fatalf("%s: %v %v", mode, outcome, err)
		}
		c.Wait()
		if _, err := os.Stat(c.path(NewKey("test", tiny))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: stored after Wait: %v", mode, err)
		}
	}
}
