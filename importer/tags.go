package importer

import (
	"sort"
	"strings"
)

type tagEntry struct {
	name string
	v4   []string
	v6   int
	file string
}

// addTags indexes a Service Tags file.
func (im *importer) addTags(d *decoded) {
	for _, t := range d.tags {
		name := strings.TrimSpace(orStr(t.Name, t.ID))
		if name == "" {
			continue
		}
		te := &tagEntry{name: name, file: d.name}
		seen := map[string]bool{}
		for _, p := range orSlice(t.Properties.AddressPrefixes, t.AddressPrefixes) {
			switch k, canon, _ := parseCIDR(p); k {
			case pV4:
				if !seen[canon] {
					seen[canon] = true
					te.v4 = append(te.v4, canon)
				}
			case pV6:
				te.v6++
			}
		}
		lk := strings.ToLower(name)
		if old, ok := im.tags[lk]; ok {
			if strings.Join(old.v4, ",") != strings.Join(te.v4, ",") {
				im.warnf("%s: service tag %q is also in %s with other prefixes; the one in %s is used", d.name, name, old.file, old.file)
			}
			continue
		}
		im.tags[lk] = te
	}
}

func (im *importer) collectTags() {
	for _, n := range im.nsgs {
		for _, r := range n.rules {
			for _, t := range r.tags {
				im.usedTags[t] = im.tags[t]
			}
		}
	}
	keys := make([]string, 0, len(im.usedTags))
	for k := range im.usedTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if te := im.usedTags[k]; te.v6 > 0 {
			im.warnf("%s: service tag %q: %s skipped (ipflow evaluates IPv4 only)", te.file, te.name, countOf(te.v6, "IPv6 prefix", "IPv6 prefixes"))
		}
	}
}
