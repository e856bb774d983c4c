package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"ipflow/importer"
	"ipflow/model"
)

const importUsage = `usage: ipflow import FILE|FOLDER... [-o FILE]

Turns the JSON that Azure prints into an ipflow fixture (TOML), so an estate exported once
from a machine with credentials can be checked offline. With the Azure CLI:

  az network vnet list -o json > vnets.json
  az network nsg list -o json > nsgs.json
  az network nic list -o json > nics.json
  az vm list -d -o json > vms.json                     (-d gives the power state)
  az network asg list -o json > asgs.json              (optional)
  az network route-table list -o json > routes.json    (optional)
  ServiceTags_Public_*.json, Microsoft's weekly "Azure IP Ranges and Service Tags - Public
  Cloud" file                                          (needed when rules use service tags)

then:

  ipflow import vnets.json nsgs.json nics.json vms.json asgs.json routes.json \
      ServiceTags_Public_*.json -o env.toml
  ipflow check -f env.toml

Files may be given in any order: each file's kind is recognised from its content (Azure CLI
output or ARM REST JSON, a list or a single object). A folder contributes every *.json file
in it; there, a file of no known kind is skipped with a warning.

What ipflow cannot represent (IPv6, NICs without a VM, unknown service tags, references to
resources that were not exported, ...) is reported on standard error, one warning per line,
and the rest is imported.

flags:
  -o FILE                 write the fixture to FILE (default: standard output)
  --max-file-size SIZE    read input files up to SIZE (default 1GiB; like 2GiB or 500M)
  -h                      show this help

exit status: 0 imported (warnings or not), 2 a file could not be read or the usage is wrong.
`

// runImport runs `ipflow import ARGS...` and returns the exit code.
func runImport(args []string, stdout, stderr io.Writer) int {
	var paths []string
	output := ""
	maxBytes := int64(model.DefaultMaxFileSize)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ipflow import: "+format+"\n", a...)
		return 2
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			paths = append(paths, args[i+1:]...)
			i = len(args)
		case a == "-h" || a == "-help" || a == "--help":
			fmt.Fprint(stdout, importUsage)
			return 0
		case a == "-o" || a == "-output" || a == "--output":
			if i+1 >= len(args) || args[i+1] == "" {
				return fail("%s needs a file name; see ipflow import -h", a)
			}
			i++
			output = args[i]
		case strings.HasPrefix(a, "-o="), strings.HasPrefix(a, "-output="), strings.HasPrefix(a, "--output="):
			output = a[strings.IndexByte(a, '=')+1:]
			if output == "" {
				return fail("%s needs a file name; see ipflow import -h", a)
			}
		case a == "-max-file-size" || a == "--max-file-size" || strings.HasPrefix(a, "-max-file-size=") || strings.HasPrefix(a, "--max-file-size="):
			v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "max-file-size=")
			if !ok {
				if i+1 >= len(args) {
					return fail("%s needs a size, like 2GiB; see ipflow import -h", a)
				}
				i++
				v = args[i]
			}
			n, err := model.ParseBytes(v)
			if err != nil {
				return fail("--max-file-size: %v", err)
			}
			maxBytes = n
		case len(a) > 1 && a[0] == '-':
			return fail("unknown flag %s; see ipflow import -h", model.Printable(a))
		default:
			paths = append(paths, a)
		}
	}
	if len(paths) == 0 {
		fmt.Fprint(stderr, "ipflow import: no input files\n\n"+importUsage)
		return 2
	}
	if output != "" {
		for _, p := range paths {
			if importSamePath(p, output) {
				return fail("-o %s would overwrite an input file", model.Printable(output))
			}
		}
	}
	inputs, err := importer.ExpandPaths(paths, maxBytes)
	if err != nil {
		importPrintErrors(stderr, err)
		return 2
	}
	res, err := importer.Import(inputs)
	if err != nil {
		importPrintErrors(stderr, err)
		return 2
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", model.Printable(w))
	}
	if output == "" {
		if _, err := stdout.Write(res.TOML); err != nil {
			return fail("writing the fixture: %v", err)
		}
	} else if err := importWriteFile(output, res.TOML); err != nil {
		return fail("%v", err)
	}
	dest := "standard output"
	if output != "" {
		dest = model.Printable(output)
	}
	fmt.Fprintf(stderr, "ipflow import: %s from %d %s to %s; %d %s\n", res.Stats,
		res.Stats.Files, importPlural(res.Stats.Files, "file", "files"), dest,
		len(res.Warnings), importPlural(len(res.Warnings), "warning", "warnings"))
	return 0
}

func importPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// importPrintErrors prints each error of a joined error on its own line.
func importPrintErrors(w io.Writer, err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		for _, line := range strings.Split(e.Error(), "\n") {
			fmt.Fprintf(w, "ipflow import: %s\n", model.Printable(line))
		}
	}
}

// importWriteFile writes data to a temporary file beside path and renames it into place, so a
// failed import never leaves half a fixture.
func importWriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write %s: %v", model.Printable(path), err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot write %s: %v", model.Printable(path), werr)
	}
	return nil
}

func importSamePath(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
