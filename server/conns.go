package server

import (
	"container/list"
	"net"
	"sync"
	"time"
)

// connLimiter bounds the connections the server holds. Connections still in the SSH handshake
// (not yet authenticated) have a budget of their own, and when it is full the oldest of them is
// dropped to make room for the new one: clients that open connections and never finish the
// handshake (a slowloris, a scanner, a flood of half-open connections) cannot lock the team
// out, since a real handshake takes milliseconds and the handshake timeout alone would let them
// hold every slot for its full length. Authenticated connections count against a second cap;
// over it a new connection is refused.
type connLimiter struct {
	maxPending, maxAuthed int

	mu      sync.Mutex
	pending list.List // *trackedConn not yet authenticated, oldest first
	authed  int
	dropped int       // connections dropped since the last log line about them
	logged  time.Time // when that line was written
}

// trackedConn is a connection the limiter counts; closing it gives its place back.
type trackedConn struct {
	net.Conn
	l      *connLimiter
	elem   *list.Element // its place in l.pending; nil once authenticated or dropped (l.mu)
	authed bool          // l.mu
	once   sync.Once
}

// admit counts a new connection. It returns nil when the authenticated connections are at their
// cap, and the pending connection dropped to make room, if one was.
func (l *connLimiter) admit(c net.Conn) (tc, dropped *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.authed >= l.maxAuthed {
		return nil, nil
	}
	if l.pending.Len() >= l.maxPending {
		dropped = l.pending.Remove(l.pending.Front()).(*trackedConn)
		dropped.elem = nil
	}
	tc = &trackedConn{Conn: c, l: l}
	tc.elem = l.pending.PushBack(tc)
	return tc, dropped
}

// authenticated moves a connection that has logged in out of the pending budget.
func (l *connLimiter) authenticated(tc *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if tc.elem == nil { // dropped meanwhile: its close is under way
		return
	}
	l.pending.Remove(tc.elem)
	tc.elem, tc.authed = nil, true
	l.authed++
}

// dropLog counts a dropped connection and says whether to log the drops now, and how many: at
// most one line every 10 s, so that a flood does not flood the log too.
func (l *connLimiter) dropLog() (n int, now bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropped++
	if time.Since(l.logged) < 10*time.Second {
		return 0, false
	}
	n, l.dropped, l.logged = l.dropped, 0, time.Now()
	return n, true
}

// counts is the number of pending and authenticated connections.
func (l *connLimiter) counts() (pending, authed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending.Len(), l.authed
}

func (tc *trackedConn) Close() error {
	tc.once.Do(func() {
		l := tc.l
		l.mu.Lock()
		if tc.elem != nil {
			l.pending.Remove(tc.elem)
			tc.elem = nil
		}
		if tc.authed {
			l.authed--
			tc.authed = false
		}
		l.mu.Unlock()
	})
	return tc.Conn.Close()
}
