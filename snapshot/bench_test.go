package snapshot

import (
	"os"
	"path/filepath"
	"testing"

	"ipflow/engine"
	"ipflow/internal/estategen"
	"ipflow/model"
)

// BenchmarkWarmLoad10k is a warm start on the 10,000-VM generated estate (10,000 VMs, 2,000
// NSGs of 50 rules, 21 MB of TOML), as every command does it: key the input files, read and
// check the snapshot, decode it and compile the engine.
func BenchmarkWarmLoad10k(b *testing.B) {
	srcs := []model.Source{{Name: "large.toml", Data: estategen.Large(10000, 2000, 50)}}
	c, err := OpenDir(b.TempDir(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.Load(srcs...); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(c.Dir(), NewKey("bench", srcs).String()+".snap"))
	b.ReportMetric(float64(fi.Size())/1e6, "snapshot-MB")
	b.ReportAllocs()
	for b.Loop() {
		env, outcome, err := c.Load(srcs...)
		if err != nil || outcome != Hit {
			b.Fatal(outcome, err)
		}
		engine.Compile(env)
	}
}

// BenchmarkDecode10k is the decoding alone.
func BenchmarkDecode10k(b *testing.B) {
	srcs := []model.Source{{Name: "large.toml", Data: estategen.Large(10000, 2000, 50)}}
	key := NewKey("bench", srcs)
	data, err := Encode(key, model.MustLoad(srcs...))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(key, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode10k is the encoding of the 10,000-VM estate's snapshot (done in the background
// of a cold load, before the process exits).
func BenchmarkEncode10k(b *testing.B) {
	env := model.MustLoad(model.Source{Name: "large.toml", Data: estategen.Large(10000, 2000, 50)})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(Key{}, env); err != nil {
			b.Fatal(err)
		}
	}
}
