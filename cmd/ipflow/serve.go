package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"ipflow/server"
)

// servedCommands are the subcommands an SSH session may run: each only reads the served estate
// and the session's own standard input.
var servedCommands = []string{"verify", "rules", "reach", "lint", "test", "version", "help"}

// servedUsage is help over ssh: what a session may run, and how its input comes (the server's
// files are never read; a flows file or change set comes on standard input as -).
const servedUsage = `ipflow over ssh: Azure NSG IP flow verify, answered from the estate this server serves

Usage:
  ssh -t HOST                                 the terminal UI
  ssh HOST verify flow flags [--what-if -] [--suggest] [-o text|json]
  ssh HOST verify --batch [-o text|json] < flows.jsonl|flows.csv
  ssh HOST test - [-o text|json] < FLOWS.toml
  ssh HOST rules --vm NAME [--nic NAME] [--direction D] [-o text|json]
                                              a NIC's effective security rules, tags expanded
  ssh HOST reach --vm NAME [--nic NAME] --direction D --protocol P [--port N|N-M] [-o text|json]
                                              who can reach a port (inbound), where a VM may send (outbound)
  ssh HOST lint [--fail-on note|warning|error] [-o text|json|sarif]
                                              shadowed and unreachable rules, dead references, exposure
  ssh HOST version

Flow flags (as az network watcher test-ip-flow):
  --vm NAME  --nic NAME (optional)  --direction inbound|outbound
  --protocol tcp|udp|icmp|esp|ah  --local IP:PORT  --remote IP:PORT

A change set (--what-if -) or a flows file (test -) comes on standard input, at most 8 MiB; -f,
--max-file-size, --junit and --record, which read or write the server's files, are refused.
Exit codes are the command line's: 0 a verdict, a passed test; 1 a failed test or a lint finding
at --fail-on; 2 any other error.
`

// serveRunner runs a command session's subcommand in-process, with the session's streams and
// the server's estate: the same code as on the command line.
func serveRunner(ctx context.Context, c server.Command) int {
	for _, a := range c.Args[1:] {
		if a == "--" {
			break
		}
		// The flag sets a process-wide limit (the server's own was taken at start), and a
		// session reads no files anyway.
		if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && name == "max-file-size" {
			fmt.Fprintf(c.Stderr, "ipflow %s: --max-file-size is not available over ssh: a session reads no files on the server\n", c.Args[0])
			return 2
		}
	}
	inv := &invocation{ctx: ctx, stdin: c.Stdin, stdout: c.Stdout, stderr: c.Stderr, served: c.Engine, verdict: c.Verdict}
	return runIn(inv, c.Args)
}

// serveConfig parses the flags of ipflow serve.
func serveConfig(args []string, stdout, stderr io.Writer) (server.Config, string, int, bool) {
	fs := newFlagSet("serve")
	var paths pathList
	cfg := server.Config{Run: serveRunner, Commands: servedCommands}
	var audit string
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	fs.StringVar(&cfg.Listen, "listen", ":2222", "address to listen on")
	fs.StringVar(&cfg.AuthorizedKeys, "authorized-keys", "", "OpenSSH authorized_keys file of who may log in")
	fs.StringVar(&cfg.HostKey, "host-key", "", "the server's ed25519 host key (created on first start)")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", 64, "sessions open at once")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 30*time.Minute, "close a session after this long without input (0: never)")
	fs.StringVar(&audit, "audit-log", "", "append a JSON-lines audit log to this file")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return cfg, "", code, true
	}
	cfg.Fixtures = paths
	// Taken now: sessions' commands parse flags too, and must not change what reloads read.
	cfg.MaxFileSize = maxFileSize.Load()
	cfg.Load = loadPaths
	if cfg.HostKey == "" {
		p, err := server.DefaultHostKeyPath()
		if err != nil {
			fmt.Fprintf(stderr, "ipflow serve: %v\n", err)
			return cfg, "", 2, true
		}
		cfg.HostKey = p
	}
	return cfg, audit, 0, false
}

// runServe serves the UI and the read-only subcommands over SSH until SIGTERM or SIGINT;
// SIGHUP reloads the estate.
func runServe(args []string, stdout, stderr io.Writer) int {
	backgroundStores = true // the server runs on: new snapshots are stored meanwhile
	cfg, audit, code, done := serveConfig(args, stdout, stderr)
	if done {
		return code
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	if audit != "" {
		f, err := os.OpenFile(audit, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "ipflow serve: audit log: %v\n", err)
			return 2
		}
		defer f.Close()
		cfg.Audit = f
	}
	srv, err := server.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if _, err := srv.Listen(); err != nil {
		fmt.Fprintf(stderr, "ipflow serve: %v\n", err)
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	for {
		select {
		case err := <-served:
			if err != nil {
				fmt.Fprintf(stderr, "ipflow serve: %v\n", err)
				return 2
			}
			return 0
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				_ = srv.Reload() // on failure the old estate stays; the log says why
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
			<-served
			cfg.Log.Info("stopped")
			return 0
		}
	}
}
