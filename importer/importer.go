// Package importer turns the JSON that Azure prints (az network vnet/nsg/nic/asg/route-table list,
// az vm list -d, ARM REST responses and the Service Tags file) into an ipflow TOML fixture.
//
// Import is pure: bytes in, TOML bytes and warnings out. What ipflow cannot represent is reported
// as one warning per item and the rest is imported; a file that is not JSON, or JSON of no known
// kind, is an error naming the file. The output is deterministic: the same files in any order give
// byte-identical TOML.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"ipflow/model"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Input is one JSON document to import.
type Input struct {
	// Name names the file in messages and in the fixture's header comment.
	Name string
	Data []byte
	// InFolder marks a file found by expanding a folder: if it holds JSON of no known kind it is
	// skipped with a warning instead of failing the import (malformed JSON still fails).
	InFolder bool
}

// Output is the result of an import.
type Output struct {
	// TOML is the fixture, starting with a comment naming the files it came from.
	TOML []byte
	// Warnings are one line each, naming the file and the resource: what could not be imported.
	Warnings []string
	Stats    Stats
}

// Stats counts what the fixture holds.
type Stats struct {
	Files, VNets, Subnets, Peerings, NSGs, Rules, ASGs, VMs, NICs, IPConfigs, ServiceTags int
}

func (s Stats) String() string {
	return fmt.Sprintf("%s (%s, %s), %s (%s), %s, %s (%s, %s), %s",
		countOf(s.VNets, "VNet", "VNets"), countOf(s.Subnets, "subnet", "subnets"),
		countOf(s.Peerings, "peering", "peerings"),
		countOf(s.NSGs, "NSG", "NSGs"), countOf(s.Rules, "rule", "rules"),
		countOf(s.ASGs, "ASG", "ASGs"),
		countOf(s.VMs, "VM", "VMs"), countOf(s.NICs, "NIC", "NICs"),
		countOf(s.IPConfigs, "IP configuration", "IP configurations"),
		countOf(s.ServiceTags, "service tag", "service tags"))
}

// ExpandPaths reads the files named by paths. A folder contributes every *.json file directly in
// it, sorted by name, marked InFolder. Files are read with model.ReadFile: regular files of at
// most maxBytes only.
func ExpandPaths(paths []string, maxBytes int64) ([]Input, error) {
	var out []Input
	var errs []error
	for _, p := range paths {
		p = filepath.Clean(p)
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", model.Printable(p), unwrapPathErr(err)))
			continue
		}
		if !st.IsDir() {
			data, err := model.ReadFile(p, maxBytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", model.Printable(p), unwrapPathErr(err)))
				continue
			}
			out = append(out, Input{Name: p, Data: data})
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", model.Printable(p), unwrapPathErr(err)))
			continue
		}
		n := 0
		for _, e := range ents {
			if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".json") {
				continue
			}
			f := filepath.Join(p, e.Name())
			data, err := model.ReadFile(f, maxBytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", model.Printable(f), unwrapPathErr(err)))
				continue
			}
			out = append(out, Input{Name: f, Data: data, InFolder: true})
			n++
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("%s: the folder holds no .json files", model.Printable(p)))
		}
	}
	return out, errors.Join(errs...)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Import converts the inputs into one fixture. It returns an error (every bad file, each a
// *FileError) when a file is not JSON or, unless found in a folder, holds no known kind.
func Import(inputs []Input) (*Output, error) {
	ins := make([]Input, len(inputs))
	copy(ins, inputs)
	sort.SliceStable(ins, func(i, j int) bool {
		if ins[i].Name != ins[j].Name {
			return ins[i].Name < ins[j].Name
		}
		return bytes.Compare(ins[i].Data, ins[j].Data) < 0
	})
	// The same file named twice (or a folder and a file in it) is read once.
	uniq := ins[:0]
	for i, in := range ins {
		if i > 0 && in.Name == ins[i-1].Name && bytes.Equal(in.Data, ins[i-1].Data) {
			if !in.InFolder {
				uniq[len(uniq)-1].InFolder = false
			}
			continue
		}
		uniq = append(uniq, in)
	}
	ins = uniq
	ds := make([]*decoded, len(ins))
	for i, in := range ins {
		ds[i] = &decoded{name: in.Name, data: in.Data, inFolder: in.InFolder}
	}
	decodeAll(ds)

	im := newImporter()
	var errs []error
	var used []string
	for fi, d := range ds {
		if d.err != nil {
			if fe, ok := d.err.(*FileError); ok && fe.noKind && d.inFolder {
				im.warnf("%s: %s; skipped", fe.File, fe.Msg)
				continue
			}
			errs = append(errs, d.err)
			continue
		}
		ok, err := im.addFile(fi, d)
		if err != nil {
			if fe, ok := err.(*FileError); ok && d.inFolder {
				im.warnf("%s: %s; skipped", fe.File, fe.Msg)
				continue
			}
			errs = append(errs, err)
			continue
		}
		if ok {
			used = append(used, d.name)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	im.build()
	out := &Output{}
	out.TOML = im.emit(used, &out.Stats)
	out.Warnings = im.warnings
	out.Stats.Files = len(used)
	return out, nil
}

// noKindHelp ends a "no known kind" error.
const noKindHelp = "ipflow import reads the JSON of az network vnet/nsg/nic/asg/route-table list (or show), az vm list -d, ARM REST responses ({\"value\": [...]}) and the Service Tags file (ServiceTags_Public_*.json)"

// addFile registers the resources of one decoded file. It reports whether the file held anything
// ipflow recognises; a non-empty file of no known kind is an error.
func (im *importer) addFile(fi int, d *decoded) (bool, error) {
	if d.isTags {
		im.addTags(d)
		return true, nil
	}
	if len(d.items) == 0 {
		im.warnf("%s: holds no resources (an empty list)", d.name)
		return true, nil
	}
	recognised := 0
	var hint string
	otherTypes := map[string]int{}
	for i := range d.items {
		switch it := &d.items[i]; it.kind {
		case kUnknown:
			if hint == "" {
				hint = it.hint
			}
		case kOtherType:
			otherTypes[it.hint]++
		default:
			recognised++
		}
	}
	if recognised == 0 {
		msg := "no known kind"
		switch {
		case hint != "":
			msg += ": it looks like " + hint
		case len(otherTypes) > 0:
			msg += ": it holds " + typeList(otherTypes) + ", which ipflow does not use"
		}
		return false, &FileError{File: d.name, Msg: msg, noKind: true}
	}
	if d.paged {
		im.warnf("%s: a paged list response (nextLink or skip_token is set): only its first page is here; the rest of the list is missing", d.name)
	}
	if len(otherTypes) > 0 {
		im.warnf("%s: skipped %s, which ipflow does not use", d.name, typeList(otherTypes))
	}
	for i := range d.items {
		it := &d.items[i]
		if it.kind == kUnknown {
			im.warnf("%s: item %d of %d is not an Azure resource ipflow knows; skipped", d.name, i+1, len(d.items))
			continue
		}
		if it.kind == kOtherType {
			continue
		}
		im.add(it, d.name)
	}
	return true, nil
}

func typeList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, m[k])
	}
	return "resources of type " + strings.Join(parts, ", ")
}
