package main

import (
	"sync"
	"sync/atomic"

	"ipflow/model"
	"ipflow/snapshot"
)

// The snapshot cache (os.UserCacheDir()/ipflow) makes loading an unchanged large estate fast.
// It is on for this process's own command line (main), off for tests calling run, and off with
// --no-cache, which any command accepts anywhere before a "--".
var cacheEnabled bool

// minCachedSize is the total size of fixtures below which the cache is not used: they load in
// a few milliseconds anyway.
const minCachedSize = 256 << 10

// openCache opens the cache once, when a large estate is first loaded; nil when it cannot be
// (no cache directory, unreadable executable): ipflow then loads without it.
var openCache = sync.OnceValue(func() *snapshot.Cache {
	id, err := snapshot.ExecutableID()
	if err != nil {
		return nil
	}
	c, err := snapshot.Open(versionString() + "\n" + id)
	if err != nil {
		return nil
	}
	// A command answers first and stores the snapshot before it exits; the UI and a server
	// store it while they run. main waits for it either way.
	c.Async, c.Later = backgroundStores, !backgroundStores
	cacheUsed.Store(true)
	return c
})

// backgroundStores is set by the UI and ipflow serve, which run on after loading: a new
// snapshot is stored while they run rather than when they exit.
var backgroundStores bool

// cacheUsed says whether openCache opened the cache: main then waits for its writes.
var cacheUsed atomic.Bool

// waitForCache waits for snapshots still being written, if the cache was used.
func waitForCache() {
	if cacheUsed.Load() {
		openCache().Wait()
	}
}

// loadFiles loads the files (from model.ListPaths, size bytes in all), through the snapshot
// cache for a large estate: on a warm start they are only hashed, never read into memory.
// progress is told of each file read ("reading"), then "linking"; or, for an estate from the
// cache, "snapshot".
func loadFiles(files []string, size, maxBytes int64, progress func(stage string, files int, bytes int64)) (*model.Environment, error) {
	var c *snapshot.Cache
	if cacheEnabled && size >= minCachedSize {
		c = openCache()
	}
	env, outcome, err := c.LoadFiles(files, maxBytes, func(n int, bytes int64) {
		progress("reading", n, bytes)
		if n == len(files) {
			progress("linking", n, bytes)
		}
	})
	if outcome == snapshot.Hit {
		progress("snapshot", len(files), size)
	}
	return env, err
}

// loadPaths is the loader of ipflow serve: the fixtures at paths, through the snapshot cache.
func loadPaths(paths []string, maxBytes int64) (*model.Environment, error) {
	files, size, err := model.ListPaths(paths, maxBytes)
	if err != nil {
		return nil, err
	}
	return loadFiles(files, size, maxBytes, func(string, int, int64) {})
}

func totalSize(srcs []model.Source) int {
	n := 0
	for _, s := range srcs {
		n += len(s.Data)
	}
	return n
}

// withoutNoCache removes --no-cache (or -no-cache) from the arguments before a "--", and says
// whether it was there.
func withoutNoCache(args []string) (rest []string, noCache bool) {
	rest = make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(rest, args[i:]...), noCache
		}
		if a == "--no-cache" || a == "-no-cache" {
			noCache = true
			continue
		}
		rest = append(rest, a)
	}
	return rest, noCache
}
