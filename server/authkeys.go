package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// authorizedKeys is the OpenSSH authorized_keys file that says who may connect. It is read
// again whenever it changes (checked at each login), so adding or removing a key needs no
// restart. A line that cannot be used is logged with its file:line and skipped; the other
// lines still count.
type authorizedKeys struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	stamp   fileStamp
	keys    map[string]bool // key.Marshal() of every usable key
	lastErr string          // the read error last logged, so a missing file is logged once
}

// fileStamp tells whether a file changed since it was last read.
type fileStamp struct {
	mod  time.Time
	size int64
	ino  any
}

func stampOf(fi fs.FileInfo) fileStamp {
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ino: inode(fi)}
}

// missingKeysHelp is what the server says when it has no keys file: how to make one.
func missingKeysHelp(path string) string {
	return fmt.Sprintf(`ipflow serve: no authorized keys at %[1]s: nobody could log in, so the server does not start.
Make the file with the public key of each person who may connect, one per line:
  cat ~/.ssh/id_ed25519.pub >> %[1]s     (a key can be made with: ssh-keygen -t ed25519)
  chmod 600 %[1]s`, path)
}

// loadAuthorizedKeys reads the file for the first start: it must exist, be writable only by
// its owner, and hold at least one usable key.
func loadAuthorizedKeys(path string, log *slog.Logger) (*authorizedKeys, error) {
	a := &authorizedKeys{path: path, log: log}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New(missingKeysHelp(path))
	}
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %v", err)
	}
	if err := checkKeysMode(path, fi); err != nil {
		return nil, fmt.Errorf("authorized keys %s: %v", path, err)
	}
	if err := a.reload(fi); err != nil {
		return nil, err
	}
	if len(a.keys) == 0 {
		return nil, errors.New(missingKeysHelp(path) + "\n(the file has no usable key)")
	}
	return a, nil
}

// checkKeysMode refuses a keys file others may write, as sshd does: anyone who can write it can
// let themselves in. It is checked at every login, not only at start, so a chmod later counts.
func checkKeysMode(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("mode %04o lets others add keys to it; run: chmod go-w %s", fi.Mode().Perm(), path)
	}
	return nil
}

// allowed reports whether key is in the file, reading it again first if it changed. If the
// file has gone or cannot be read, nobody is let in (and the reason is logged).
func (a *authorizedKeys) allowed(key gossh.PublicKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	fi, err := os.Stat(a.path)
	if err == nil {
		err = checkKeysMode(a.path, fi)
	}
	if err == nil && stampOf(fi) != a.stamp {
		err = a.reload(fi)
	}
	if err != nil {
		if err.Error() != a.lastErr {
			a.log.Error("authorized keys cannot be used: refusing every login until they can", "path", a.path, "err", err)
			a.lastErr = err.Error()
		}
		a.keys, a.stamp = nil, fileStamp{}
		return false
	}
	a.lastErr = ""
	return a.keys[string(key.Marshal())]
}

// usableOptions are the authorized_keys options that only take rights away, and that this
// server always enforces anyway (it has no forwarding, no shell and no user rc). A key with any
// other option (from=, command=, cert-authority, permitopen=, …) is skipped rather than let in
// without the restriction its option asks for.
var usableOptions = map[string]bool{
	"restrict": true, "no-port-forwarding": true, "no-agent-forwarding": true,
	"no-X11-forwarding": true, "no-user-rc": true,
}

func (a *authorizedKeys) reload(fi fs.FileInfo) error {
	data, err := os.ReadFile(a.path)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("%s:%d", a.path, i+1)
		key, _, options, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			a.log.Warn("authorized keys: line skipped: not an OpenSSH public key (ssh-ed25519 AAAA… comment)", "at", where)
			continue
		}
		if _, ok := key.(*gossh.Certificate); ok {
			a.log.Warn("authorized keys: line skipped: certificates are not supported; list the plain public key", "at", where)
			continue
		}
		bad := ""
		for _, o := range options {
			name, _, _ := bytes.Cut([]byte(o), []byte("="))
			if !usableOptions[string(name)] {
				bad = string(name)
				break
			}
		}
		if bad != "" {
			a.log.Warn("authorized keys: key skipped: ipflow serve does not support this option", "at", where, "option", printable(bad))
			continue
		}
		keys[string(key.Marshal())] = true
	}
	a.keys, a.stamp = keys, stampOf(fi)
	a.log.Info("authorized keys read", "path", a.path, "keys", len(keys))
	return nil
}
