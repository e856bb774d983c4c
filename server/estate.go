package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"ipflow/engine"
	"ipflow/fixtures"
	"ipflow/model"
)

// Estate is the compiled estate every session shares. It is never changed: a reload makes a
// new one and swaps it in, and sessions pick it up from their next verdict.
type Estate struct {
	Engine *engine.Engine
	Loaded time.Time
}

// loadEstate reads and compiles the fixtures cfg names (the embedded sample when there are
// none), each file at most cfg.MaxFileSize (0: the model's default), with cfg.Load when set. A
// *model.LoadError lists every problem with its file:line.
func loadEstate(cfg Config) (*Estate, error) {
	var env *model.Environment
	var err error
	switch {
	case len(cfg.Fixtures) == 0:
		env, err = model.Load(fixtures.Sample()...)
	case cfg.Load != nil:
		env, err = cfg.Load(cfg.Fixtures, cfg.MaxFileSize)
	default:
		var srcs []model.Source
		if srcs, err = model.ReadPaths(cfg.Fixtures, cfg.MaxFileSize); err == nil {
			env, err = model.Load(srcs...)
		}
	}
	if err != nil {
		return nil, err
	}
	return &Estate{Engine: engine.Compile(env), Loaded: time.Now()}, nil
}

// loadProblems turns a load error into lines for the log: each problem with its file:line.
func loadProblems(err error) []string {
	var le *model.LoadError
	if !errors.As(err, &le) {
		return []string{printable(err.Error())}
	}
	out := make([]string, 0, len(le.Errors))
	for _, is := range le.Errors {
		out = append(out, is.String())
	}
	return out
}

// describe is one line about an estate, for logs and notices.
func (e *Estate) describe() string {
	env := e.Engine.Environment()
	name := env.Name
	if name == "" {
		name = "estate"
	}
	return fmt.Sprintf("%s (%d VMs, %d NSGs)", printable(name), len(env.VMs), len(env.NSGs))
}

// fixtureStamp summarises the fixture files' names, sizes and times: when it changes, a file
// was edited, added or removed. A path that cannot be read contributes its error, so that
// its return is a change too.
func fixtureStamp(paths []string) string {
	var b strings.Builder
	add := func(p string) {
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(&b, "%s:missing\n", p)
			return
		}
		fmt.Fprintf(&b, "%s:%d:%d\n", p, fi.Size(), fi.ModTime().UnixNano())
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			add(p)
			continue
		}
		names, _ := filepath.Glob(filepath.Join(p, "*"))
		sort.Strings(names)
		for _, n := range names {
			if strings.EqualFold(filepath.Ext(n), ".toml") {
				add(n)
			}
		}
	}
	return b.String()
}
