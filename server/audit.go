package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"ipflow/engine"
	"ipflow/model"
)

// auditLog writes one JSON object per line: who connected (key fingerprint, never the key),
// from where, what they ran, each verdict they asked for, and how the session ended. Every
// string that came from a client or a fixture passes model.Printable first, so reading the log
// in a terminal is safe too.
type auditLog struct {
	mu  sync.Mutex
	w   io.Writer // nil: no audit log
	log *slog.Logger
}

// auditRecord is one line. Fields that do not apply to an event are left out.
type auditRecord struct {
	Time        string `json:"time"`
	Event       string `json:"event"` // session-start, session-end, session-refused, verdict, reload, reload-failed
	Session     uint64 `json:"session,omitempty"`
	Fingerprint string `json:"key,omitempty"` // SHA256 fingerprint of the client's key
	User        string `json:"user,omitempty"`
	Client      string `json:"client,omitempty"` // address:port
	Kind        string `json:"kind,omitempty"`   // ui, command, subsystem
	Command     string `json:"command,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Exit        *int   `json:"exit,omitempty"`
	Seconds     string `json:"seconds,omitempty"`
	// A verdict.
	VM     string `json:"vm,omitempty"`
	NIC    string `json:"nic,omitempty"`
	Flow   string `json:"flow,omitempty"`
	Access string `json:"access,omitempty"`
	Rule   string `json:"rule,omitempty"`
	NSG    string `json:"nsg,omitempty"`
	// A reload.
	Estate string `json:"estate,omitempty"`
}

func (a *auditLog) write(r auditRecord) {
	if a == nil || a.w == nil {
		return
	}
	r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	line = model.EscapeJSON(line)
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.w.Write(line); err != nil {
		a.log.Error("audit log write failed", "err", err)
	}
}

// verdictRecord describes one verdict for the log.
func verdictRecord(r *engine.Result) auditRecord {
	rec := auditRecord{Event: "verdict", Flow: r.Flow.String(), Access: r.Access.String(), Rule: printable(r.RuleName())}
	if r.VM != nil {
		rec.VM = printable(r.VM.Name)
	}
	if r.NIC != nil {
		rec.NIC = printable(r.NIC.Name)
	}
	if r.Layer != nil && r.Layer.NSG != nil {
		rec.NSG = printable(r.Layer.NSG.Name)
	}
	return rec
}

// printable is the project's one escaping function, for everything a client or a fixture
// named that reaches a log or a terminal.
func printable(s string) string { return model.Printable(s) }

// maxEchoed is how many bytes of a user name or command line the logs keep: far more than any
// real one, far less than the 256 KB an SSH packet may carry.
const maxEchoed = 512

// clipped is printable for what a client chose freely (its user name, its command line): cut
// to maxEchoed bytes, with its full length said.
func clipped(s string) string {
	if len(s) <= maxEchoed {
		return printable(s)
	}
	end := maxEchoed
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%s… (%d bytes)", printable(s[:end]), len(s))
}
