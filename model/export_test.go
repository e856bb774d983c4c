package model

// SetRulesPerWorker sets how many NSG rules make reading them in another goroutine worth it, for
// tests outside the package; the returned function restores it.
func SetRulesPerWorker(n int) (restore func()) {
	old := rulesPerWorker
	rulesPerWorker = n
	return func() { rulesPerWorker = old }
}

// LoadInPieces is Load from pieces of about size bytes (see stream.go), or from whole files
// (size 0); streamed says whether the load was streamed or fell back to whole files.
func LoadInPieces(size int, srcs ...Source) (env *Environment, err error, streamed bool) {
	if size == 0 {
		env, err, _ = load(srcs, false)
		return env, err, false
	}
	old := pieceSize
	pieceSize = size
	defer func() { pieceSize = old }()
	if env, err, streamed = load(srcs, true); streamed {
		return env, err, true
	}
	env, err, _ = load(srcs, false)
	return env, err, false
}
