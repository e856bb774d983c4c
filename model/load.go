package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/BurntSushi/toml"
)

// Source is one fixture file: its name as shown in messages (e.g. env.toml or
// fixtures/sample.toml) and its contents.
type Source struct {
	Name string
	Data []byte
}

// ReadPaths reads the fixtures named by -f PATH flags. Each path is a file or a directory; a
// directory contributes every *.toml file directly in it (not in subdirectories, and not hidden
// files), sorted by name. A file named twice (directly or through its directory) is read once.
// An unreadable path, a file that is not a regular file or is larger than maxBytes (see
// ReadFile), or a directory without *.toml files, is an error naming it. No paths yield no
// sources.
func ReadPaths(paths []string, maxBytes int64) ([]Source, error) {
	return ReadPathsProgress(paths, maxBytes, nil)
}

// ReadPathsProgress is ReadPaths telling progress: after each file is read, read (if not nil)
// is called with the number of files and bytes read so far, so a UI can show them as they go.
func ReadPathsProgress(paths []string, maxBytes int64, read func(files int, bytes int64)) ([]Source, error) {
	files, _, err := ListPaths(paths, maxBytes)
	if err != nil {
		return nil, err
	}
	return ReadFiles(files, maxBytes, read)
}

// ListPaths is the files ReadPaths reads, in order, without reading them, and their total size:
// each path is checked as ReadPaths and ReadFile check it (a file that is not a regular file or
// is larger than maxBytes is an error naming it), so that a caller can decide what to do before
// reading anything (the snapshot cache hashes them instead).
func ListPaths(paths []string, maxBytes int64) (files []string, size int64, err error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileSize
	}
	seen := map[string]bool{}
	add := func(name string, fi fs.FileInfo) error {
		key := filepath.Clean(name)
		if abs, err := filepath.Abs(name); err == nil {
			key = abs
		}
		if seen[key] {
			return nil
		}
		seen[key] = true
		if err := checkFile(name, fi, maxBytes); err != nil {
			return fmt.Errorf("cannot read %s: %s", Printable(name), pathErr(err))
		}
		files = append(files, name)
		size += fi.Size()
		return nil
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, 0, fmt.Errorf("cannot read %s: %s", Printable(p), pathErr(err))
		}
		if !fi.IsDir() {
			if err := add(p, fi); err != nil {
				return nil, 0, err
			}
			continue
		}
		entries, err := os.ReadDir(p) // sorted by name
		if err != nil {
			return nil, 0, fmt.Errorf("cannot read directory %s: %s", Printable(p), pathErr(err))
		}
		n := 0
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !strings.EqualFold(filepath.Ext(name), ".toml") {
				continue
			}
			full := filepath.Join(p, name)
			if e.IsDir() {
				continue
			}
			st, err := os.Stat(full) // follows a symbolic link
			if err != nil {
				return nil, 0, fmt.Errorf("cannot read %s: %s", Printable(full), pathErr(err))
			}
			if st.IsDir() {
				continue
			}
			if err := add(full, st); err != nil {
				return nil, 0, err
			}
			n++
		}
		if n == 0 {
			return nil, 0, fmt.Errorf("%s: no *.toml files in this directory", Printable(p))
		}
	}
	return files, size, nil
}

// ReadFiles reads files (from ListPaths) as ReadPathsProgress does.
func ReadFiles(files []string, maxBytes int64, read func(files int, bytes int64)) ([]Source, error) {
	out := make([]Source, 0, len(files))
	var total int64
	for _, name := range files {
		data, err := ReadFile(name, maxBytes)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %s", Printable(name), pathErr(err))
		}
		out = append(out, Source{Name: name, Data: data})
		if total += int64(len(data)); read != nil {
			read(len(out), total)
		}
	}
	return out, nil
}

func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return Printable(pe.Err.Error())
	}
	return Printable(err.Error())
}

// recoverPanics turns a bug in Load into an error instead of a crash; the fuzz tests turn it
// off to see the stack.
var recoverPanics = true

// srcFile is one decoded source.
type srcFile struct {
	name  string
	idx   int
	text  string
	root  map[string]any
	lines *lnode
}

// Load decodes every source, merges them into one environment, validates it and links every
// reference. On failure it returns a *LoadError holding every error found, and the warnings; on
// success the warnings are in Environment.Warnings. Load never panics. The sources' Data must not
// change while Load runs; nothing returned refers to it.
func Load(srcs ...Source) (*Environment, error) {
	if len(srcs) == 0 {
		return nil, &LoadError{Errors: []Issue{{Message: "no fixture files"}}}
	}
	if env, err, streamed := load(srcs, true); streamed {
		return env, err
	}
	env, err, _ := load(srcs, false)
	return env, err
}

// load is Load from a stream of pieces (stream.go) or from whole files. With stream, done is
// false when the fixtures are not fit to be streamed, and the load must be done from whole files.
func load(srcs []Source, stream bool) (env *Environment, err error, done bool) {
	l := newLoader()
	var s *pieceStream
	defer func() {
		if !recoverPanics {
			return
		}
		if r := recover(); r != nil {
			if s != nil && s.failed {
				// Built on what a failed stream had read: the whole-file load says what is
				// wrong instead.
				env, err, done = nil, nil, false
				return
			}
			// Defence in depth: a bug must surface as an error, not crash the program.
			l.errAt(Pos{}, "", fmt.Sprintf("internal error while loading fixtures (please report): %v", r))
			env, err, done = nil, &LoadError{Errors: l.errs, Warnings: l.warns}, true
		}
	}()
	l.open(srcs, true)
	if stream {
		if s = newPieceStream(l); s == nil {
			return nil, nil, false
		}
		defer s.stop()
		l.build(s)
		if s.failed {
			return nil, nil, false
		}
	} else {
		indexed := l.index()
		l.decodeWhole()
		indexed.Wait()
		if len(l.errs) > 0 {
			// Syntax errors: anything validated past them would be guesswork.
			l.sortIssues()
			return nil, &LoadError{Errors: capIssues(l.errs, "errors")}, true
		}
		l.build(wholeFiles(l.roots()))
	}
	l.sortIssues()
	l.errs, l.warns = capIssues(l.errs, "errors"), capIssues(l.warns, "warnings")
	if len(l.errs) > 0 {
		return nil, &LoadError{Errors: l.errs, Warnings: l.warns}, true
	}
	l.env.Warnings = l.warns
	return l.env, nil, true
}

// MustLoad is Load for tests and embedded fixtures known to be valid; it panics on error.
func MustLoad(srcs ...Source) *Environment {
	env, err := Load(srcs...)
	if err != nil {
		panic(err)
	}
	return env
}

// decode decodes every source into l.files, with their line indexes.
func (l *loader) decode(srcs []Source, borrow bool) {
	l.open(srcs, borrow)
	indexed := l.index()
	l.decodeWhole()
	indexed.Wait()
}

// open makes l.files of srcs. borrow reads the sources' Data in place instead of copying it (21
// MB for the 10,000-VM estate, live for the whole load): only for Load, which keeps nothing that
// refers to the text (the TOML decoder copies what it returns, and the line index and the text
// are dropped at the end of the load); a Document keeps its line index.
func (l *loader) open(srcs []Source, borrow bool) {
	l.files = make([]*srcFile, len(srcs))
	for i, s := range srcs {
		name := s.Name
		if name == "" {
			name = "<fixture " + strconv.Itoa(i+1) + ">"
		}
		text := ""
		if borrow {
			text = unsafe.String(unsafe.SliceData(s.Data), len(s.Data))
		} else {
			text = string(s.Data)
		}
		l.files[i] = &srcFile{name: name, idx: i, text: text}
		l.fileIdx[name] = i
		l.env.Files = append(l.env.Files, name)
	}
}

// index builds the line index of every file, alongside their decoding; it is done when the
// returned group is.
func (l *loader) index() *sync.WaitGroup {
	var indexed sync.WaitGroup
	for _, f := range l.files {
		indexed.Go(func() {
			defer func() {
				if r := recover(); r != nil && recoverPanics {
					f.lines = nil // positions are then unknown, not fatal
				} else if r != nil {
					panic(r)
				}
			}()
			f.lines = indexLines(f.text)
		})
	}
	return &indexed
}

// decodeWhole decodes each file (in pieces when it is large: decode.go), recording syntax
// errors.
func (l *loader) decodeWhole() {
	for _, f := range l.files {
		root, err := decodeParallel(f.text)
		if err != nil {
			l.syntaxError(f, err)
			continue
		}
		f.root = root
	}
}

func (l *loader) syntaxError(f *srcFile, err error) {
	var de *depthError
	if errors.As(err, &de) {
		l.errAt(Pos{File: f.name, Line: de.line}, "", de.Error())
		return
	}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Position.Col > 0 {
			msg = fmt.Sprintf("TOML syntax error at column %d: %s", pe.Position.Col, msg)
		} else {
			msg = "TOML syntax error: " + msg
		}
		l.errAt(Pos{File: f.name, Line: pe.Position.Line}, "", Printable(msg))
		return
	}
	l.errAt(Pos{File: f.name}, "", Printable(err.Error()))
}

// errAt records an error. Names in resource paths are quoted by strconv.Quote; the message is
// made printable too, since it may quote keys and file names from the fixtures.
func (l *loader) errAt(p Pos, res, msg string) {
	l.errs = append(l.errs, Issue{Pos: p, Resource: res, Message: Printable(cutLongQuotes(msg))})
}

func (l *loader) warnAt(p Pos, res, msg string) {
	l.warns = append(l.warns, Issue{Pos: p, Resource: res, Message: Printable(cutLongQuotes(msg))})
}

// sortIssues orders issues by file (in load order) and line, keeping the order of discovery
// among issues on one line.
func (l *loader) sortIssues() {
	for _, list := range [][]Issue{l.errs, l.warns} {
		sort.SliceStable(list, func(i, j int) bool {
			fi, fj := l.fileOrder(list[i].Pos.File), l.fileOrder(list[j].Pos.File)
			if fi != fj {
				return fi < fj
			}
			return list[i].Pos.Line < list[j].Pos.Line
		})
	}
}

func (l *loader) fileOrder(name string) int {
	if i, ok := l.fileIdx[name]; ok {
		return i
	}
	return -1
}
