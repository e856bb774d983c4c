package server

import (
	"fmt"
	"log/slog"

	gossh "golang.org/x/crypto/ssh"
)

// allowedEnv is all the environment a client may set, and only for the UI's colours. Nothing
// else of the client's environment is kept (the server never hands it to anything).
var allowedEnv = map[string]bool{"TERM": true, "NO_COLOR": true, "COLORTERM": true}

// filteredChannel is a session channel whose requests pass a filter before the SSH library's
// session handler sees them. The library would keep every env request (a client could send
// millions), accept agent forwarding, and block on window changes nobody reads; the filter
// refuses what this server never offers and bounds the rest.
type filteredChannel struct {
	gossh.NewChannel
	log *slog.Logger
}

func (c *filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go filter(ch, reqs, out, c.log)
	return ch, out, nil
}

// filter passes on the requests the session handler may see and answers the rest itself:
//   - env: TERM, NO_COLOR and COLORTERM only, once each, short, before the session starts;
//   - agent and X11 forwarding: refused;
//   - signals and breaks: refused (there is no process to signal);
//   - window changes: only once the session runs (its handler reads them from then on);
//   - one shell, exec or subsystem request; a command line of at most maxCommand bytes.
func filter(ch gossh.Channel, in <-chan *gossh.Request, out chan<- *gossh.Request, log *slog.Logger) {
	defer close(out)
	seen := map[string]bool{}
	started := false
	refuse := func(r *gossh.Request) { _ = r.Reply(false, nil) }
	for req := range in {
		switch req.Type {
		case "env":
			var kv struct{ Key, Value string }
			if started || gossh.Unmarshal(req.Payload, &kv) != nil || !allowedEnv[kv.Key] || seen[kv.Key] || len(kv.Value) > 256 {
				refuse(req)
				continue
			}
			seen[kv.Key] = true
		case "auth-agent-req@openssh.com", "x11-req":
			log.Info("forwarding refused", "request", req.Type)
			refuse(req)
			continue
		case "signal", "break":
			refuse(req)
			continue
		case "window-change":
			if !started {
				refuse(req)
				continue
			}
		case "shell", "exec", "subsystem":
			if started {
				refuse(req)
				continue
			}
			started = true
			var cmd struct{ Command string }
			if req.Type == "exec" && gossh.Unmarshal(req.Payload, &cmd) == nil && len(cmd.Command) > maxCommand {
				tooLong(ch, req, len(cmd.Command), log)
				continue
			}
		}
		out <- req
	}
}

// maxCommand is the longest command line a session may send: far more than any real one. The
// SSH library splits a command into words in time quadratic in a word's length (a 256 KB word
// takes minutes of CPU), so a longer one is refused before it is split.
const maxCommand = 4096

// tooLong refuses a command line over maxCommand with one line and exit status 1.
func tooLong(ch gossh.Channel, req *gossh.Request, n int, log *slog.Logger) {
	log.Info("session refused: command line too long", "bytes", n, "limit", maxCommand)
	_ = req.Reply(true, nil)
	fmt.Fprintf(ch.Stderr(), "ipflow: the command line is %d bytes long, more than the %d bytes a command may have\n", n, maxCommand)
	_, _ = ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{1}))
	_ = ch.Close()
}
