// Package server is ipflow serve: the terminal UI and the read-only subcommands over SSH, for a
// whole team, from one process holding one compiled estate.
//
// Each SSH session is either the UI (a shell request with a terminal), a command (an exec
// request naming an allowed subcommand, run in-process by the Runner that cmd/ipflow supplies,
// against the shared estate), or refused with one line. Logins are by public key only, against
// an OpenSSH authorized_keys file. There is no forwarding of any kind and no environment from
// the client beyond TERM, NO_COLOR and COLORTERM.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"ipflow/engine"
	"ipflow/model"
)

// Command is one command session for the Runner: the subcommand's arguments (the first is the
// subcommand), the session's streams, the shared estate, and where verdicts go (the audit log).
type Command struct {
	Args           []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Engine         *engine.Engine
	Verdict        func(*engine.Result)
}

// Runner runs a subcommand in-process and returns its exit code. ctx ends when the client
// goes away or the server shuts down.
type Runner func(ctx context.Context, c Command) int

// Config is what ipflow serve was started with.
type Config struct {
	Listen         string        // host:port
	AuthorizedKeys string        // OpenSSH authorized_keys file: who may log in (required)
	HostKey        string        // ed25519 host key, created on first start
	MaxSessions    int           // sessions open at once; one more is told "server busy"
	IdleTimeout    time.Duration // a session with no input for this long is closed; 0: never
	Fixtures       []string      // -f paths; none: the embedded sample
	MaxFileSize    int64         // largest fixture file read; 0: the model's default
	// Load reads and links the fixtures at paths (there are some), each at most maxBytes;
	// nil: model.ReadPaths and model.Load. ipflow serve passes its snapshot-cached loader, so
	// that a restart on an unchanged large estate is quick.
	Load     func(paths []string, maxBytes int64) (*model.Environment, error)
	Audit    io.Writer    // JSON lines; nil: no audit log
	Log      *slog.Logger // operational log; nil: discarded
	Run      Runner       // runs command sessions
	Commands []string     // the subcommands Run may be asked for (read-only ones)
	// Poll is how often the fixture files are checked for changes; 0 means 2 s.
	Poll time.Duration
	// Notice is how long sessions are told of a shutdown before they are closed; 0 means 2 s.
	Notice time.Duration
}

// Limits on what one client can make the server hold.
const (
	maxCols, maxRows   = 400, 200 // larger windows are drawn at this size
	maxStdin           = 64 << 20 // bytes a command session may send on standard input
	maxChannelsPerConn = 10       // sessions multiplexed on one connection
	handshakeTimeout   = 30 * time.Second
)

// Server is a running ipflow serve.
type Server struct {
	cfg    Config
	log    *slog.Logger
	keys   *authorizedKeys
	ssh    *ssh.Server
	audit  *auditLog
	estate atomic.Pointer[Estate]
	hostFP string
	nextID atomic.Uint64
	conns  connLimiter

	// reloading makes reloads one at a time, so a SIGHUP and a file change arriving together
	// cannot finish in the wrong order and leave the older estate in use.
	reloading sync.Mutex

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	ln       net.Listener
	stamp    string // the fixtures' stamp at the last load attempt
	stop     chan struct{}
}

// New checks the configuration, reads the authorized keys, loads (or creates) the host key and
// loads the estate. It refuses to start without a usable authorized_keys file.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxSessions <= 0 {
		return nil, fmt.Errorf("--max-sessions must be at least 1")
	}
	if cfg.Run == nil {
		return nil, errors.New("server: no Runner")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Notice <= 0 {
		cfg.Notice = 2 * time.Second
	}
	if cfg.AuthorizedKeys == "" {
		return nil, errors.New("ipflow serve: --authorized-keys FILE is required: it lists the public keys that may log in")
	}
	s := &Server{cfg: cfg, log: cfg.Log, sessions: map[*session]struct{}{}, stop: make(chan struct{})}
	s.conns.maxPending, s.conns.maxAuthed = 4*cfg.MaxSessions+16, 4*cfg.MaxSessions+16
	s.audit = &auditLog{w: cfg.Audit, log: cfg.Log}
	keys, err := loadAuthorizedKeys(cfg.AuthorizedKeys, cfg.Log)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	signer, created, err := hostKey(cfg.HostKey)
	if err != nil {
		return nil, err
	}
	s.hostFP = gossh.FingerprintSHA256(signer.PublicKey())
	if created {
		s.log.Info("host key created", "path", cfg.HostKey, "fingerprint", s.hostFP)
	} else {
		s.log.Info("host key", "path", cfg.HostKey, "fingerprint", s.hostFP)
	}
	s.stamp = fixtureStamp(cfg.Fixtures)
	est, err := loadEstate(cfg)
	if err != nil {
		return nil, fmt.Errorf("the estate does not load, so the server does not start:\n%s", joinLines(loadProblems(err)))
	}
	s.estate.Store(est)
	s.log.Info("estate loaded", "estate", est.describe())

	// wish.NewServer writes a new host key into the working directory when it is given none:
	// the host key option comes first, so it never does.
	s.ssh, err = wish.NewServer(
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithVersion("ipflow"),
		// Public keys only: with no password or keyboard-interactive handler the SSH library
		// refuses both methods.
		wish.WithPublicKeyAuth(s.allowKey),
		func(srv *ssh.Server) error {
			srv.Handler = s.handle
			srv.HandshakeTimeout = handshakeTimeout
			// Sessions go through the request filter; no other channel type (direct-tcpip is
			// local forwarding) and no global request (tcpip-forward is remote forwarding)
			// has a handler, so every kind of forwarding is refused.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
			srv.RequestHandlers = map[string]ssh.RequestHandler{}
			srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{"default": s.handle}
			srv.ConnCallback = s.admitConn
			srv.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
				return &gossh.ServerConfig{
					MaxAuthTries: 6,
					// Called with a nil error only once the client has proved it holds the key.
					AuthLogCallback: func(_ gossh.ConnMetadata, _ string, err error) {
						if tc, ok := ctx.Value(trackedConnKey).(*trackedConn); ok && err == nil {
							s.conns.authenticated(tc)
						}
					},
				}
			}
			return nil
		},
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %v", err)
	}
	if cfg.IdleTimeout > 0 {
		// A backstop for connections that hold no session; sessions have their own check.
		s.ssh.IdleTimeout = cfg.IdleTimeout + time.Minute
	}
	return s, nil
}

// HostKeyFingerprint is the SHA256 fingerprint of the host key, for users' known_hosts.
func (s *Server) HostKeyFingerprint() string { return s.hostFP }

// Estate is the estate in use.
func (s *Server) Estate() *Estate { return s.estate.Load() }

// Listen opens the listening socket (so that the caller knows the address before serving).
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return ln.Addr(), nil
}

// Serve accepts connections until Shutdown, and watches the fixtures for changes. It returns
// nil after a Shutdown.
func (s *Server) Serve() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("server: Serve before Listen")
	}
	go s.watch()
	s.log.Info("listening", "address", ln.Addr().String(), "max_sessions", s.cfg.MaxSessions, "idle_timeout", s.cfg.IdleTimeout.String())
	err := s.ssh.Serve(ln)
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if errors.Is(err, ssh.ErrServerClosed) || closing && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// allowKey is the only way in: a key listed in the authorized_keys file.
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.keys.allowed(key) {
		return true
	}
	s.log.Info("login refused: key not in the authorized keys", "key", gossh.FingerprintSHA256(key),
		"user", clipped(ctx.User()), "client", ctx.RemoteAddr().String())
	return false
}

// admitConn counts a new connection (see connLimiter): the oldest connection still in its
// handshake may be dropped for it, and over the cap of authenticated connections it is closed
// at once.
func (s *Server) admitConn(ctx ssh.Context, c net.Conn) net.Conn {
	tc, dropped := s.conns.admit(c)
	if dropped != nil {
		_ = dropped.Close()
		if n, now := s.conns.dropLog(); now {
			s.log.Warn("connections dropped: too many still in their handshake, the oldest made way for new ones",
				"dropped", n, "limit", s.conns.maxPending, "last_client", dropped.RemoteAddr().String())
		}
	}
	if tc == nil {
		s.log.Warn("connection refused: too many connections", "client", c.RemoteAddr().String(), "limit", s.conns.maxAuthed)
		return nil
	}
	ctx.SetValue(trackedConnKey, tc)
	ctx.SetValue(channelCountKey, new(atomic.Int32))
	return tc
}

type ctxKey string

const (
	channelCountKey ctxKey = "ipflow-channels"
	trackedConnKey  ctxKey = "ipflow-conn"
)

// sessionChannel opens a session channel through a filter of its requests (see filter).
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	if n, ok := ctx.Value(channelCountKey).(*atomic.Int32); ok {
		if n.Add(1) > maxChannelsPerConn {
			n.Add(-1)
			_ = nc.Reject(gossh.ResourceShortage, "ipflow: too many sessions on one connection")
			return
		}
		defer n.Add(-1)
	}
	ssh.DefaultSessionHandler(srv, conn, &filteredChannel{NewChannel: nc, log: s.log}, ctx)
}

// Reload loads the fixtures again. On success every session uses the new estate from its next
// verdict and is told so; on failure the old estate stays and each problem is logged with its
// file:line.
func (s *Server) Reload() error {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	s.mu.Lock()
	s.stamp = fixtureStamp(s.cfg.Fixtures)
	s.mu.Unlock()
	est, err := loadEstate(s.cfg)
	if err != nil {
		problems := loadProblems(err)
		for i, p := range problems {
			if i == 50 {
				s.log.Error("reload failed", "more_problems", len(problems)-i)
				break
			}
			s.log.Error("reload failed: the previous estate stays in use", "problem", p)
		}
		s.audit.write(auditRecord{Event: "reload-failed", Reason: fmt.Sprintf("%d problem(s) in the fixtures; the previous estate stays in use", len(problems))})
		return fmt.Errorf("reload failed: %d problem(s):\n%s", len(problems), joinLines(problems))
	}
	s.estate.Store(est)
	s.log.Info("estate reloaded", "estate", est.describe())
	s.audit.write(auditRecord{Event: "reload", Estate: est.describe()})
	note := fmt.Sprintf("Estate reloaded at %s: your next verdict uses it", est.Loaded.Format("15:04:05"))
	for _, ss := range s.openSessions() {
		ss.notify(note)
	}
	return nil
}

// watch reloads when a fixture file changes, once it has stopped changing for one poll, and
// closes the sessions of keys taken out of the authorized keys.
func (s *Server) watch() {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	pending := ""
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.revoke()
		if len(s.cfg.Fixtures) == 0 {
			continue
		}
		cur := fixtureStamp(s.cfg.Fixtures)
		s.mu.Lock()
		changed := cur != s.stamp
		s.mu.Unlock()
		if !changed {
			pending = ""
			continue
		}
		if cur != pending {
			pending = cur // changed since the last poll: wait for the writer to finish
			continue
		}
		pending = ""
		s.log.Info("fixtures changed: reloading")
		_ = s.Reload()
	}
}

// revoke ends the sessions whose key is no longer in the authorized keys: removing a key
// takes effect on open sessions too, not only on the next login.
func (s *Server) revoke() {
	for _, ss := range s.openSessions() {
		if k := ss.ssh.PublicKey(); k != nil && !s.keys.allowed(k) {
			s.log.Info("session closed: its key was removed from the authorized keys", "session", ss.id, "key", ss.fingerprint())
			ss.end("your key was removed from the authorized keys")
		}
	}
}

func (s *Server) openSessions() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// Sessions is the number of sessions open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown stops accepting connections, tells open sessions, closes them after the notice
// period, and returns once every connection is closed or ctx ends (then the rest are cut).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	close(s.stop)
	ln := s.ln
	s.mu.Unlock()

	// Stop accepting now. (Not with ssh.Server.Shutdown: its wait for connections races with
	// a connection that finishes its handshake meanwhile, a sync.WaitGroup Add during Wait.)
	if ln != nil {
		_ = ln.Close()
	}
	open := s.openSessions()
	s.log.Info("shutting down", "sessions", len(open))
	for _, ss := range open {
		ss.notify(fmt.Sprintf("The server is shutting down: this session closes in %s", s.cfg.Notice.Round(time.Second)))
	}
	if len(open) > 0 {
		select {
		case <-time.After(s.cfg.Notice):
		case <-ctx.Done():
		}
	}
	for _, ss := range s.openSessions() {
		ss.end("the server is shutting down")
	}
	// Give the sessions a moment to tell their clients and exit, then cut every connection
	// (clients that keep theirs open, connections that never opened a session).
	for s.Sessions() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	_ = s.ssh.Close()
	for ctx.Err() == nil {
		if pending, authed := s.conns.counts(); pending+authed == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// allowed reports whether name is a subcommand the server runs.
func (s *Server) allowed(name string) bool { return slices.Contains(s.cfg.Commands, name) }

// joinLines indents lines for an error message of several lines.
func joinLines(lines []string) string { return "  " + strings.Join(lines, "\n  ") }
