package model

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// decodeTOML decodes a TOML text into maps, slices and scalars. A panic inside the TOML library
// becomes an error.
func decodeTOML(text string) (root map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("the TOML decoder failed: %v", r)
		}
	}()
	var v any
	if _, err := toml.Decode(text, &v); err != nil {
		return nil, err
	}
	root, _ = v.(map[string]any)
	if root == nil {
		root = map[string]any{}
	}
	return root, nil
}

// Large fixtures are decoded in pieces: the text is cut before top-level array-of-tables
// headers ([[vm]], [[nsg]], ...) into pieces of about a megabyte, which are decoded by one worker
// per CPU, and the pieces' arrays of tables are concatenated. Pieces make decoding parallel, and
// they keep memory down, because the TOML library's working data for a piece is garbage as soon
// as the piece is done.
//
// The result is exactly what one decode yields: a piece can only differ from the whole when it
// refers to something defined in another piece, and every such case shows up as an error in a
// piece or as a top-level key that two pieces both define other than as arrays of tables. Then
// (and on any error) the whole text is decoded again in one piece, which also gives syntax
// errors their true line numbers.
//
// Load builds the model from the pieces as they are decoded instead (stream.go); decoding the
// whole text here is what it falls back to, and what a Document uses.
const maxPieces = 256

// pieceSize is the size of a piece in bytes, roughly (a variable for tests, which cut small
// texts into many pieces).
var pieceSize = 1 << 20

// splitHeaders are the top-level arrays of tables a text may be cut before.
var splitHeaders = []string{"[[vnet]]", "[[nsg]]", "[[asg]]", "[[vm]]", "[[admin_rule]]"}

func decodeParallel(text string) (map[string]any, error) {
	if err := checkDepth(text); err != nil {
		return nil, err
	}
	parts := min(maxPieces, len(text)/pieceSize)
	if parts < 2 {
		return decodeTOML(text)
	}
	return decodeInPieces(text, cutPoints(text, parts))
}

// decodeInPieces decodes text cut at the given offsets (each the start of a line).
func decodeInPieces(text string, cuts []int) (map[string]any, error) {
	if len(cuts) == 0 {
		return decodeTOML(text)
	}
	bounds := append(append([]int{0}, cuts...), len(text))
	n := len(bounds) - 1
	roots := make([]map[string]any, n)
	errs := make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				roots[i], errs[i] = decodeTOML(text[bounds[i]:bounds[i+1]])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return decodeTOML(text)
		}
	}
	root := roots[0]
	for _, r := range roots[1:] {
		for k, v := range r {
			prev, ok := root[k]
			if !ok {
				root[k] = v
				continue
			}
			a, okA := prev.([]map[string]any)
			b, okB := v.([]map[string]any)
			if !okA || !okB {
				return decodeTOML(text)
			}
			root[k] = append(a, b...)
		}
	}
	return root, nil
}

// cutPoints chooses up to parts-1 offsets, roughly evenly spaced, where a line starts with one
// of splitHeaders. A cut inside a multi-line string or array is harmless: the piece before it
// then fails to decode and the whole text is decoded in one piece.
func cutPoints(text string, parts int) []int {
	var cuts []int
	step := len(text) / parts
	from := step
	for len(cuts) < parts-1 && from < len(text) {
		at := nextHeaderLine(text, from)
		if at < 0 {
			break
		}
		cuts = append(cuts, at)
		from = max(at+1, (len(cuts)+1)*step)
	}
	return cuts
}

// nextHeaderLine is the offset of the first line at or after from that starts with one of
// splitHeaders, or -1.
func nextHeaderLine(text string, from int) int {
	for from < len(text) {
		i := strings.Index(text[from:], "\n[[")
		if i < 0 {
			return -1
		}
		at := from + i + 1
		rest := text[at:]
		for _, h := range splitHeaders {
			if strings.HasPrefix(rest, h) {
				return at
			}
		}
		from = at
	}
	return -1
}
