// Package snapshot keeps loaded estates in the user's cache directory so that an estate that has
// not changed loads without decoding its TOML again. A snapshot is only a cache: it is keyed by
// the content of every input file and by the ipflow build, checked by a SHA-256 checksum, and a
// missing, truncated, corrupt, foreign or stale snapshot is ignored and rebuilt. It can never
// change an answer: what it holds is exactly the model.Environment that model.Load returned.
package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"ipflow/model"
)

// A snapshot file is: magic, format version (4 bytes), key (32), payload length (8), payload,
// and the SHA-256 of everything before it (32).
const (
	magic         = "ipflow snapshot\n"
	formatVersion = 3
	headerLen     = len(magic) + 4 + sha256.Size + 8
	trailerLen    = sha256.Size
)

// Key identifies a set of input files read by one ipflow build.
type Key [sha256.Size]byte

func (k Key) String() string { return hex.EncodeToString(k[:]) }

// NewKey is the key of srcs (their names and contents, in order) as read by build, a string that
// changes whenever the code that reads them may (see ExecutableID).
func NewKey(build string, srcs []model.Source) Key {
	k := newKeyHash(build, len(srcs))
	for _, s := range srcs {
		k.file(s.Name, sha256.Sum256(s.Data))
	}
	return k.key()
}

// FileKey is NewKey of the sources model.ReadFiles would read from files, found by reading each
// file through the hash a little at a time instead of holding it: a warm start need not read a
// 20 MB estate into memory only to learn that it has not changed. A file that is not a regular
// file or is over maxBytes is an error, as it is for model.ReadFile.
func FileKey(build string, files []string, maxBytes int64) (Key, error) {
	if maxBytes <= 0 {
		maxBytes = model.DefaultMaxFileSize
	}
	k := newKeyHash(build, len(files))
	for _, name := range files {
		sum, err := hashFile(name, maxBytes)
		if err != nil {
			return Key{}, err
		}
		k.file(name, sum)
	}
	return k.key(), nil
}

func hashFile(name string, maxBytes int64) (sum [sha256.Size]byte, err error) {
	f, err := os.Open(name)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return sum, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxBytes {
		return sum, fmt.Errorf("%s: not a regular file within the size limit", name)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, maxBytes+1))
	if err != nil {
		return sum, err
	}
	if n > maxBytes {
		return sum, fmt.Errorf("%s: over the size limit", name)
	}
	h.Sum(sum[:0])
	return sum, nil
}

// keyHash builds a Key: the format, the build, then each file's name and content hash.
type keyHash struct{ h hash.Hash }

func newKeyHash(build string, files int) keyHash {
	k := keyHash{sha256.New()}
	k.word(magic)
	k.number(formatVersion)
	k.word(build)
	k.number(uint64(files))
	return k
}

func (k keyHash) number(n uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	k.h.Write(b[:])
}

func (k keyHash) word(s string) {
	k.number(uint64(len(s)))
	io.WriteString(k.h, s)
}

func (k keyHash) file(name string, sum [sha256.Size]byte) {
	k.word(name)
	k.h.Write(sum[:])
}

func (k keyHash) key() (out Key) {
	k.h.Sum(out[:0])
	return out
}

// ExecutableID is the SHA-256 of the running executable: a snapshot written by one build is
// never read by another, even by development builds that share a version string.
func ExecutableID() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Encode writes env as a snapshot for key.
func Encode(key Key, env *model.Environment) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("snapshot: cannot encode this environment: %v", r)
		}
	}()
	payload := encodePayload(env)
	out := make([]byte, 0, headerLen+len(payload)+trailerLen)
	out = append(out, magic...)
	out = binary.LittleEndian.AppendUint32(out, formatVersion)
	out = append(out, key[:]...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(payload)))
	out = append(out, payload...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

// Errors of Decode, by what is wrong with a snapshot. Every one means: ignore it and rebuild.
var (
	ErrTruncated = errors.New("snapshot: truncated")
	ErrForeign   = errors.New("snapshot: not an ipflow snapshot of this format")
	ErrStale     = errors.New("snapshot: made for other input files or another ipflow build")
	ErrCorrupt   = errors.New("snapshot: checksum mismatch")
)

// Decode reads a snapshot, which must be for key. It never panics.
func Decode(key Key, data []byte) (env *model.Environment, err error) {
	defer func() {
		if r := recover(); r != nil { // defence in depth: the decoder checks every read
			env, err = nil, fmt.Errorf("%w: %v", errBad, r)
		}
	}()
	if len(data) < headerLen+trailerLen {
		return nil, ErrTruncated
	}
	if string(data[:len(magic)]) != magic || binary.LittleEndian.Uint32(data[len(magic):]) != formatVersion {
		return nil, ErrForeign
	}
	if !bytes.Equal(data[len(magic)+4:len(magic)+4+len(key)], key[:]) {
		return nil, ErrStale
	}
	n := binary.LittleEndian.Uint64(data[headerLen-8:])
	if n != uint64(len(data)-headerLen-trailerLen) {
		return nil, ErrTruncated
	}
	body := data[:len(data)-trailerLen]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, ErrCorrupt
	}
	return decodePayload(body[headerLen:])
}

// Cache is a directory of snapshots.
type Cache struct {
	dir   string
	build string
	// Keep is how many snapshots the directory keeps (the most recently used).
	Keep int
	// Async stores new snapshots in the background, so that a cold load does not wait for the
	// writing (the estate is immutable: storing it and using it can run together): for a
	// long-running process (the UI, a server). Wait waits for them; a process must call it
	// before it exits.
	Async bool
	// Later stores new snapshots only when Wait is called: a short command answers first, with
	// nothing competing for the CPU or the heap, then writes the snapshot before it exits.
	Later   bool
	pending sync.WaitGroup
	mu      sync.Mutex
	later   []func()
	closed  bool // Wait was called: the process is exiting, nothing more is stored
}

// Wait stores the snapshots kept for later and waits until those being stored in the
// background are written.
func (c *Cache) Wait() {
	if c == nil {
		return
	}
	c.mu.Lock()
	later := c.later
	c.later, c.closed = nil, true
	c.mu.Unlock()
	for _, store := range later {
		store()
	}
	c.pending.Wait()
}

// Open opens the snapshot cache of this user, os.UserCacheDir()/ipflow, creating it (0700)
// if needed; build is ExecutableID or another identity of the build.
func Open(build string) (*Cache, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	return OpenDir(filepath.Join(base, "ipflow"), build)
}

// OpenDir opens a snapshot cache in dir, creating it (0700) if needed.
func OpenDir(dir, build string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Cache{dir: dir, build: build, Keep: 8}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

func (c *Cache) path(k Key) string { return filepath.Join(c.dir, k.String()+".snap") }

// Outcome says what Load did with the cache.
type Outcome uint8

const (
	Bypassed Outcome = iota // no cache
	Hit                     // loaded from a snapshot
	Missed                  // no snapshot: loaded and stored
	Rebuilt                 // a snapshot was unreadable (truncated, corrupt, ...): loaded and stored
)

// Load is model.Load through the cache: the environment from a valid snapshot of exactly these
// sources, or model.Load's result, whose snapshot is then stored (estates with errors are not
// stored). A nil Cache loads without one. Problems with the cache itself are never errors.
func (c *Cache) Load(srcs ...model.Source) (*model.Environment, Outcome, error) {
	if c == nil {
		env, err := model.Load(srcs...)
		return env, Bypassed, err
	}
	key := NewKey(c.build, srcs)
	env, outcome := c.get(key)
	if outcome == Hit {
		return env, Hit, nil
	}
	return c.loadAndStore(key, outcome, srcs)
}

// loadAndStore is model.Load of srcs, whose snapshot (key's, found missing or unusable: outcome)
// is then stored as the cache is set to.
func (c *Cache) loadAndStore(key Key, outcome Outcome, srcs []model.Source) (*model.Environment, Outcome, error) {
	env, err := model.Load(srcs...)
	if err != nil {
		return env, outcome, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		// A load after Wait (a server reloading as it shuts down): the process is exiting,
		// and a store now would race Wait.
	case c.Later:
		c.later = append(c.later, func() { c.store(key, env) })
	case c.Async:
		c.pending.Go(func() { c.store(key, env) })
	default:
		c.store(key, env)
	}
	return env, outcome, nil
}

// LoadFiles is Load of the files model.ListPaths lists: on a warm start they are only hashed
// (FileKey), never held in memory; otherwise they are read (read is told the progress, as by
// model.ReadFiles) and loaded by Load, which keys the snapshot by what was read, so that a file
// changed in between is never stored under the old content's key.
func (c *Cache) LoadFiles(files []string, maxBytes int64, read func(files int, bytes int64)) (*model.Environment, Outcome, error) {
	var hashed Key
	outcome := Missed
	if c != nil {
		var err error
		if hashed, err = FileKey(c.build, files, maxBytes); err == nil {
			var env *model.Environment
			if env, outcome = c.get(hashed); outcome == Hit {
				return env, Hit, nil
			}
		}
	}
	srcs, err := model.ReadFiles(files, maxBytes, read)
	if err != nil {
		return nil, Bypassed, err
	}
	if c != nil && NewKey(c.build, srcs) == hashed {
		return c.loadAndStore(hashed, outcome, srcs) // the files did not change: no second look
	}
	return c.Load(srcs...)
}

// get is the environment of key's snapshot (Hit), or Missed when there is none, or Rebuilt when
// it cannot be used.
func (c *Cache) get(key Key) (*model.Environment, Outcome) {
	path := c.path(key)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Missed
	}
	env, err := Decode(key, data)
	if err != nil {
		return nil, Rebuilt
	}
	now := time.Now()
	os.Chtimes(path, now, now) // most recently used; kept by prune
	return env, Hit
}

// store writes a snapshot through a temporary file and a rename, so that a reader never sees a
// partly written snapshot and concurrent writers of the same snapshot do not mix their bytes.
func (c *Cache) store(key Key, env *model.Environment) error {
	data, err := Encode(key, env)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, "write-*.tmp") // 0600
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), c.path(key)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	c.prune()
	return nil
}

// prune keeps the Keep most recently used snapshots and removes temporary files left by
// writers that died (older than an hour).
func (c *Cache) prune() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	type snap struct {
		name string
		used time.Time
	}
	var snaps []snap
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch name := e.Name(); {
		case strings.HasSuffix(name, ".snap"):
			snaps = append(snaps, snap{name, info.ModTime()})
		case strings.HasPrefix(name, "write-") && strings.HasSuffix(name, ".tmp") && time.Since(info.ModTime()) > time.Hour:
			os.Remove(filepath.Join(c.dir, name))
		}
	}
	if len(snaps) <= c.Keep {
		return
	}
	slices.SortFunc(snaps, func(a, b snap) int { return b.used.Compare(a.used) })
	for _, s := range snaps[c.Keep:] {
		os.Remove(filepath.Join(c.dir, s.name))
	}
}
