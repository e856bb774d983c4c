package model

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// A large fixture is loaded as a stream: its pieces (decode.go) are decoded by one worker per
// CPU while the model is built from the pieces already decoded, and each piece's decoded tree is
// let go once the model has what it holds. The whole decoded tree of a 20 MB fixture is several
// times the size of its model; holding only a few pieces at a time keeps the heap, the garbage
// collector's work and the page faults of a cold load down.
//
// build reads the kinds of tables in a fixed order (ASGs, NSGs, VNets, VMs, admin rules), so a
// piece is needed when its first kind is read, and the pieces are decoded in that order. Which
// kinds a piece holds is read from its header lines before it is decoded, and checked against
// what it decoded to. Anything out of the ordinary — a syntax error, a header that is not a
// plain [[kind]], a piece that decodes to more than its headers said or to something a whole
// decode would not give (see decodeInPieces) — ends the stream, and Load starts again from
// whole files, which gives exactly the answer and the messages it always gives.

// streamPiece is one piece of a file.
type streamPiece struct {
	file  *srcFile
	text  string          // its part of the file's text
	line  int             // the line of the file it starts on
	lines *lnode          // its own line index, built with its decoding and let go with it
	head  bool            // the file's first piece: it may hold any top-level key
	kinds map[string]bool // for other pieces, the kinds its [[kind]] headers name
	root  map[string]any
	err   error // the decoder's error (the whole text is then decoded again for its line)
	used  bool
	left  int // kinds build has still to read from it (not for a first piece)
	done  chan struct{}
	// For a file's first piece: the top-level keys it holds as something other than an array
	// of tables, which no later piece may continue.
	notArrays map[string]bool
}

// pieceStream is the tableSource of a load in pieces.
type pieceStream struct {
	l       *loader
	files   [][]*streamPiece
	order   []*streamPiece // in the order build first needs them
	tokens  chan struct{}  // bounds the pieces decoded ahead of build
	quit    chan struct{}
	halting sync.Once
	wg      sync.WaitGroup
	failed  bool
}

// lookahead is how many pieces may be decoded ahead of what build has taken.
var lookahead = runtime.GOMAXPROCS(0) + 1

// streamKinds are the kinds build reads, in its order.
var streamKinds = []string{"asg", "nsg", "vnet", "vm", "admin_rule"}

// newPieceStream plans the pieces of l's files and starts decoding them; nil when no file is
// large enough to be cut, or when a file's headers are not all plain [[kind]] lines.
func newPieceStream(l *loader) *pieceStream {
	s := &pieceStream{l: l, quit: make(chan struct{})}
	cut := false
	for _, f := range l.files {
		bounds := []int{0}
		if parts := min(maxPieces, len(f.text)/pieceSize); parts >= 2 {
			bounds = append(bounds, cutPoints(f.text, parts)...)
		}
		bounds = append(bounds, len(f.text))
		var pieces []*streamPiece
		line := 1
		for i := range len(bounds) - 1 {
			p := &streamPiece{file: f, text: f.text[bounds[i]:bounds[i+1]], line: line, head: i == 0, done: make(chan struct{})}
			line += strings.Count(p.text, "\n")
			if !p.head {
				kinds, ok := headerKinds(p.text)
				if !ok {
					return nil
				}
				p.kinds, p.left = kinds, len(kinds)
				cut = true
			}
			pieces = append(pieces, p)
		}
		s.files = append(s.files, pieces)
	}
	if !cut {
		return nil
	}
	for _, pieces := range s.files {
		s.order = append(s.order, pieces[0])
	}
	for _, kind := range streamKinds {
		for _, pieces := range s.files {
			for _, p := range pieces[1:] {
				if p.kinds[kind] && !slices.Contains(s.order, p) {
					s.order = append(s.order, p)
				}
			}
		}
	}
	s.decode()
	return s
}

// decode starts the workers. Each takes a token before it takes the next piece, so the piece
// build waits for is always decoded or being decoded: the tokens are held only by pieces
// before it in order, which build has taken, or by it.
func (s *pieceStream) decode() {
	next := make(chan *streamPiece, len(s.order))
	for _, p := range s.order {
		next <- p
	}
	close(next)
	s.tokens = make(chan struct{}, lookahead)
	for range lookahead {
		s.tokens <- struct{}{}
	}
	for range min(runtime.GOMAXPROCS(0), len(s.order)) {
		s.wg.Go(func() {
			for {
				select {
				case <-s.tokens:
				case <-s.quit:
					return
				}
				p, ok := <-next
				if !ok {
					return
				}
				select {
				case <-s.quit:
				default:
					s.decodePiece(p)
				}
				close(p.done)
			}
		})
	}
}

// decodePiece decodes p and indexes its lines. A piece of a file starts at a top-level header,
// so a piece nested too deeply is found as the whole file would be (or the piece fails to
// decode); the whole-file load then says where, as it does for a panic here.
func (s *pieceStream) decodePiece(p *streamPiece) {
	defer func() {
		if r := recover(); r != nil {
			if !recoverPanics {
				panic(r)
			}
			p.root, p.err = nil, fmt.Errorf("internal error while decoding: %v", r)
		}
	}()
	if p.err = checkDepth(p.text); p.err == nil {
		p.root, p.err = decodeTOML(p.text)
	}
	if p.err == nil {
		p.lines = indexPiece(p.text, p.line)
	}
}

// halt tells the workers to stop: the stream has failed, and what they would decode is not
// needed.
func (s *pieceStream) halt() {
	s.failed = true
	s.halting.Do(func() { close(s.quit) })
}

// stop ends the workers and waits for them.
func (s *pieceStream) stop() {
	s.halting.Do(func() { close(s.quit) })
	s.wg.Wait()
}

// take waits for p, checks it and, the first time, lets the workers decode one more piece.
// It returns false, and the stream fails, when p decoded to anything a whole decode might not
// give.
func (s *pieceStream) take(p *streamPiece) bool {
	<-p.done
	if !p.used {
		p.used = true
		s.tokens <- struct{}{}
		if p.err != nil || p.root == nil || !s.fits(p) {
			return false
		}
	}
	return true
}

// fits says whether p decoded to what its headers said, each kind an array of tables that
// continues the same array of the file's first piece, if that has it (the check of
// decodeInPieces).
func (s *pieceStream) fits(p *streamPiece) bool {
	if p.head {
		p.notArrays = map[string]bool{}
		for k, v := range p.root {
			if _, ok := v.([]map[string]any); !ok {
				p.notArrays[k] = true
			}
		}
		return true
	}
	head := s.files[p.file.idx][0]
	for k, v := range p.root {
		if _, ok := v.([]map[string]any); !ok || !p.kinds[k] || head.notArrays[k] {
			return false
		}
	}
	return true
}

func (s *pieceStream) heads() []*tab {
	var out []*tab
	for _, pieces := range s.files {
		p := pieces[0]
		if s.failed || !s.take(p) {
			s.halt()
			return nil
		}
		out = append(out, &tab{l: s.l, f: p.file, m: p.root, node: p.lines})
	}
	return out
}

func (s *pieceStream) each(kind string, read func([]*tab)) {
	for _, pieces := range s.files {
		n := 0 // tables of this kind in the file's earlier pieces
		for _, p := range pieces {
			if !p.head && !p.kinds[kind] {
				continue
			}
			if s.failed || !s.take(p) {
				s.halt()
				return
			}
			arr, _ := p.root[kind].([]map[string]any)
			read([]*tab{{l: s.l, f: p.file, m: p.root, node: p.lines, offset: n}})
			n += len(arr)
			delete(p.root, kind)
			if p.left--; p.left == 0 && !p.head {
				p.root, p.lines = nil, nil // all read: let its tree and index go
			}
		}
	}
}

// indexPiece is indexLinesFrom for a piece; a failure leaves its positions unknown, which is
// not fatal (as for a whole file).
func indexPiece(text string, line int) (n *lnode) {
	defer func() {
		if r := recover(); r != nil {
			if !recoverPanics {
				panic(r)
			}
			n = nil
		}
	}()
	return indexLinesFrom(text, line)
}

// headerKinds reads the kinds named by the header lines of a piece that is not a file's first:
// every line that starts with '[' (after blanks) must be [[kind]] or [[kind.sub...]] or
// [kind.sub...] for one of the kinds build reads, written plainly. ok is false for anything else
// (a nested array's line, a quoted key, [environment]): the file is then loaded whole.
func headerKinds(text string) (kinds map[string]bool, ok bool) {
	kinds = map[string]bool{}
	// From '[' to '[', skipping those that do not start a line: much faster than line by line.
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '[')
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		k := at
		for k > 0 && (text[k-1] == ' ' || text[k-1] == '\t') {
			k--
		}
		if k > 0 && text[k-1] != '\n' {
			continue
		}
		line := text[at:]
		if end := strings.IndexByte(line, '\n'); end >= 0 {
			line, i = line[:end], at+end+1
		} else {
			i = len(text)
		}
		double := strings.HasPrefix(line, "[[")
		name := strings.TrimLeft(line[1:], "[ \t")
		end := strings.IndexAny(name, ". \t]")
		if end <= 0 {
			return nil, false
		}
		kind, rest := name[:end], strings.TrimLeft(name[end:], " \t")
		if !slices.Contains(streamKinds, kind) || !(strings.HasPrefix(rest, ".") || double && strings.HasPrefix(rest, "]]") || !double && strings.HasPrefix(rest, "]")) {
			return nil, false
		}
		if !double && !strings.HasPrefix(rest, ".") {
			return nil, false // [vm]: a single table, which a whole decode would refuse
		}
		kinds[kind] = true
	}
	return kinds, true
}
