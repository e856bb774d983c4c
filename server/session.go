package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"
	gossh "golang.org/x/crypto/ssh"

	"ipflow/engine"
	"ipflow/model"
	"ipflow/tui"
)

// session is one SSH session: the UI, a command, or a refusal.
type session struct {
	srv   *Server
	ssh   ssh.Session
	id    uint64
	start time.Time
	kind  string

	ctx    context.Context
	cancel context.CancelFunc

	lastActive atomic.Int64  // unix nanoseconds of the last input (or, for commands, output)
	done       chan struct{} // closed when the UI or command has returned
	panicked   atomic.Bool   // the UI panicked (and the panic was logged)
	forcing    sync.Once

	mu      sync.Mutex
	program *tea.Program // the UI, once running
	reason  string       // why the server ended the session, if it did
	window  ssh.Window   // latest window size, clamped
	resized chan struct{}
}

// handle runs one session from its shell, exec or subsystem request to its exit status.
func (s *Server) handle(sess ssh.Session) {
	ss := &session{srv: s, ssh: sess, id: s.nextID.Add(1), start: time.Now(), resized: make(chan struct{}, 1), done: make(chan struct{})}
	ss.ctx, ss.cancel = context.WithCancel(sess.Context())
	defer ss.cancel()
	ss.watchWindow()
	ss.touch()

	args := sess.Command()
	_, _, hasPty := sess.Pty()
	switch {
	case sess.Subsystem() != "":
		ss.kind = "subsystem"
		ss.refuse(fmt.Sprintf("subsystem %s is not offered (no sftp, no scp: ipflow serve only answers flow questions)", model.QuoteName(sess.Subsystem())))
		return
	case len(args) == 0 && !hasPty:
		ss.kind = "ui"
		ss.refuse("no terminal: connect with ssh -t for the UI, or run a command: ssh … " + strings.Join(s.cfg.Commands, "|") + " …")
		return
	case len(args) == 0:
		ss.kind = "ui"
	case !s.allowed(args[0]):
		ss.kind = "command"
		what := fmt.Sprintf("%s is not a command here", model.QuoteName(args[0]))
		if name := args[0]; name == "scp" || name == "rsync" || name == "sftp" || strings.Contains(name, "/") {
			what = fmt.Sprintf("%s is not offered (no file transfer, no shell)", model.QuoteName(name))
		}
		ss.refuse(fmt.Sprintf("%s; commands: %s", what, strings.Join(s.cfg.Commands, ", ")))
		return
	default:
		ss.kind = "command"
	}
	if !s.admit(ss) {
		return
	}
	defer s.leave(ss)
	s.audit.write(ss.record("session-start"))
	s.log.Info("session start", "session", ss.id, "key", ss.fingerprint(), "client", ss.client(), "kind", ss.kind, "command", ss.command())

	code := ss.run(args)
	close(ss.done)

	rec := ss.record("session-end")
	rec.Exit = &code
	rec.Seconds = fmt.Sprintf("%.1f", time.Since(ss.start).Seconds())
	rec.Reason = ss.endReason()
	s.audit.write(rec)
	s.log.Info("session end", "session", ss.id, "exit", code, "reason", rec.Reason)
	s.leave(ss) // before the exit status: a client that starts its next command on it finds the slot free
	_ = sess.Exit(code)
}

// admit takes a session slot, or tells the client why there is none.
func (s *Server) admit(ss *session) bool {
	s.mu.Lock()
	closing, full := s.closing, len(s.sessions) >= s.cfg.MaxSessions
	if !closing && !full {
		s.sessions[ss] = struct{}{}
	}
	s.mu.Unlock()
	switch {
	case closing:
		ss.refuse("the server is shutting down; try again in a moment")
		return false
	case full:
		ss.refuse(fmt.Sprintf("server busy: %d sessions are open, the most it takes; try again later", s.cfg.MaxSessions))
		return false
	}
	return true
}

func (s *Server) leave(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
}

const internalErrorLine = "ipflow: internal error: this session is closed (the server goes on running)"

// run runs the UI or the command, recovering a panic into a closed session.
func (ss *session) run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			ss.logPanic(r, debug.Stack())
			fmt.Fprintln(ss.ssh.Stderr(), internalErrorLine)
			code = 1
		}
	}()
	go ss.idleWatch()
	if ss.kind == "ui" {
		return ss.runUI()
	}
	return ss.runCommand(args)
}

// logPanic logs a panic of this session, escaped, with its stack.
func (ss *session) logPanic(r any, stack []byte) {
	ss.srv.log.Error("session panicked; it is closed, the server goes on", "session", ss.id,
		"panic", printable(fmt.Sprint(r)), "stack", string(stack))
	ss.setReason("internal error")
}

// uiPanicked is told of a panic in the UI (see guarded): it logs it and stops the UI.
func (ss *session) uiPanicked(r any, stack []byte) {
	ss.logPanic(r, stack)
	ss.panicked.Store(true)
	ss.cancel()
}

func (ss *session) runUI() int {
	pty, _, _ := ss.ssh.Pty()
	env := clientEnv(pty.Term, ss.ssh.Environ())
	w := ss.currentWindow()
	est := ss.srv.Estate()
	ui := tui.NewHosted(est.Engine, tui.Start{}, tui.Hosted{
		Engine:  func() *engine.Engine { return ss.srv.Estate().Engine },
		Verdict: ss.verdict,
	})
	p := tea.NewProgram(guarded{m: ui, g: &guard{caught: ss.uiPanicked}},
		tea.WithContext(ss.ctx),
		tea.WithInput(activity{r: ss.ssh, s: ss}),
		tea.WithOutput(ss.ssh),
		tea.WithEnvironment(env),
		tea.WithColorProfile(colorprofile.Env(env)),
		tea.WithWindowSize(w.Width, w.Height),
		tea.WithoutSignalHandler(),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if _, ok := msg.(tea.SuspendMsg); ok { // ctrl+z must not stop the server
				return nil
			}
			return msg
		}),
	)
	ss.mu.Lock()
	ss.program = p
	ss.mu.Unlock()
	go func() {
		for {
			select {
			case <-ss.ctx.Done():
				return
			case <-ss.resized:
				w := ss.currentWindow()
				p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}()
	_, err := p.Run()
	if ss.panicked.Load() {
		fmt.Fprintln(ss.ssh.Stderr(), internalErrorLine)
		return 1
	}
	if reason := ss.endReason(); reason != "" {
		fmt.Fprintf(ss.ssh.Stderr(), "ipflow: session closed: %s\n", reason)
		return 1
	}
	if errors.Is(err, tea.ErrProgramPanic) {
		panic(err) // handled by run: logged, the client told
	}
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		ss.srv.log.Warn("ui ended with an error", "session", ss.id, "err", printable(err.Error()))
		return 1
	}
	return 0
}

func (ss *session) runCommand(args []string) int {
	stdin := &limitedStdin{r: activity{r: ss.ssh, s: ss}, n: maxStdin}
	code := ss.srv.cfg.Run(ss.ctx, Command{
		Args:    args,
		Stdin:   stdin,
		Stdout:  activityWriter{w: ss.ssh, s: ss},
		Stderr:  activityWriter{w: ss.ssh.Stderr(), s: ss},
		Engine:  ss.srv.Estate().Engine,
		Verdict: ss.verdict,
	})
	if reason := ss.endReason(); reason != "" {
		fmt.Fprintf(ss.ssh.Stderr(), "ipflow: session closed: %s\n", reason)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// refuse ends a session with one line saying why, and exit status 1.
func (ss *session) refuse(why string) {
	ss.srv.log.Info("session refused", "key", ss.fingerprint(), "client", ss.client(), "kind", ss.kind, "reason", why)
	rec := ss.record("session-refused")
	rec.Reason = why
	ss.srv.audit.write(rec)
	fmt.Fprintf(ss.ssh.Stderr(), "ipflow: %s\n", why)
	_ = ss.ssh.Exit(1)
}

// verdict records a verdict the session asked for.
func (ss *session) verdict(r *engine.Result) {
	rec := verdictRecord(r)
	rec.Session, rec.Fingerprint = ss.id, ss.fingerprint()
	ss.srv.audit.write(rec)
}

// notify shows a line on the UI's status line (command sessions are not interrupted).
func (ss *session) notify(msg string) {
	ss.mu.Lock()
	p := ss.program
	ss.mu.Unlock()
	if p != nil {
		go p.Send(tui.Notice(msg)) // Send waits for the program; never hold up the caller
	}
}

// end closes the session for a reason the client is told. Ending its context is enough for a
// session that listens, but a command may ignore it (waiting on standard input the client keeps
// open) and a client may have stopped reading (the UI or command blocks writing to it): such a
// session would keep its slot for ever. So if it has not returned after closeGrace its channel
// is closed, and after another closeGrace its connection (a client that does not answer the
// channel's close).
func (ss *session) end(reason string) {
	ss.setReason(reason)
	ss.cancel()
	ss.forcing.Do(func() { go ss.force() })
}

const closeGrace = time.Second

func (ss *session) force() {
	select {
	case <-ss.done:
		return
	case <-time.After(closeGrace):
	}
	ss.srv.log.Warn("session did not end: closing its channel", "session", ss.id, "reason", ss.endReason())
	_ = ss.ssh.Close()
	select {
	case <-ss.done:
		return
	case <-time.After(closeGrace):
	}
	ss.srv.log.Warn("session did not end: closing its connection", "session", ss.id)
	if c, ok := ss.ssh.Context().Value(ssh.ContextKeyConn).(gossh.Conn); ok {
		_ = c.Close()
	}
}

func (ss *session) setReason(r string) {
	ss.mu.Lock()
	if ss.reason == "" {
		ss.reason = r
	}
	ss.mu.Unlock()
}

func (ss *session) endReason() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.reason
}

func (ss *session) touch() { ss.lastActive.Store(time.Now().UnixNano()) }

// idleWatch ends the session after the idle timeout without activity.
func (ss *session) idleWatch() {
	idle := ss.srv.cfg.IdleTimeout
	if idle <= 0 {
		return
	}
	tick := min(idle/4, 5*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ss.ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, ss.lastActive.Load())) >= idle {
			ss.end(fmt.Sprintf("idle for %s", idle))
			return
		}
	}
}

// watchWindow drains the session's window changes for as long as the session's requests
// run (the SSH library blocks on them otherwise), keeping the latest, clamped.
func (ss *session) watchWindow() {
	pty, winch, ok := ss.ssh.Pty()
	if ok {
		ss.window = clampWindow(pty.Window)
	} else {
		ss.window = ssh.Window{Width: 80, Height: 24}
	}
	if winch == nil {
		return
	}
	go func() {
		for w := range winch {
			ss.mu.Lock()
			ss.window = clampWindow(w)
			ss.mu.Unlock()
			select {
			case ss.resized <- struct{}{}:
			default:
			}
		}
	}()
}

func (ss *session) currentWindow() ssh.Window {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.window
}

func (ss *session) fingerprint() string {
	if k := ss.ssh.PublicKey(); k != nil {
		return gossh.FingerprintSHA256(k)
	}
	return ""
}

func (ss *session) client() string {
	if a := ss.ssh.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

func (ss *session) command() string {
	if ss.kind == "subsystem" {
		return clipped(ss.ssh.Subsystem())
	}
	return clipped(ss.ssh.RawCommand())
}

func (ss *session) record(event string) auditRecord {
	return auditRecord{Event: event, Session: ss.id, Fingerprint: ss.fingerprint(), User: clipped(ss.ssh.User()),
		Client: ss.client(), Kind: ss.kind, Command: ss.command()}
}

// clampWindow bounds a client's window: a zero size becomes 80×24, a huge one maxCols×maxRows
// (the UI allocates a cell buffer of the window's size).
func clampWindow(w ssh.Window) ssh.Window {
	if w.Width <= 0 || w.Height <= 0 {
		return ssh.Window{Width: 80, Height: 24}
	}
	return ssh.Window{Width: min(w.Width, maxCols), Height: min(w.Height, maxRows)}
}

// clientEnv is the environment the UI sees: the client's TERM (from its pty request),
// NO_COLOR and COLORTERM, cleaned. Never the server's own environment.
func clientEnv(term string, environ []string) []string {
	env := []string{"TERM=" + cleanTerm(term)}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "NO_COLOR":
			if v != "" { // no-color.org: any non-empty value
				env = append(env, "NO_COLOR=1")
			}
		case "COLORTERM":
			if c := cleanWord(v, 16); c != "" {
				env = append(env, "COLORTERM="+c)
			}
		}
	}
	return env
}

// cleanTerm keeps a TERM that looks like a terminal name; anything else (a path, control
// characters, a megabyte) becomes plain xterm.
func cleanTerm(t string) string {
	if c := cleanWord(t, 64); c != "" && c == t {
		return t
	}
	return "xterm"
}

func cleanWord(s string, max int) string {
	if len(s) == 0 || len(s) > max {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '+') {
			return ""
		}
	}
	return s
}

// activity marks the session active on every read.
type activity struct {
	r io.Reader
	s *session
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.s.touch()
	}
	return n, err
}

// activityWriter marks a command session active on every write.
type activityWriter struct {
	w io.Writer
	s *session
}

func (a activityWriter) Write(p []byte) (int, error) {
	n, err := a.w.Write(p)
	if n > 0 {
		a.s.touch()
	}
	return n, err
}

// limitedStdin is a command's standard input, cut off with an error past n bytes.
type limitedStdin struct {
	r io.Reader
	n int64
}

func (l *limitedStdin) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("standard input is larger than %d MB, the most a session may send", maxStdin>>20)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
