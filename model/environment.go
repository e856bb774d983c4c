package model

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

func (l *loader) readEnvironment(root *tab) {
	t := root.table("environment", "environment")
	if t == nil {
		return
	}
	t.unknown(keysEnv, nil)
	set := func(key string, dst *string, at *Pos) {
		s, ok := t.str(key, optional)
		if !ok {
			return
		}
		if at.File != "" && *dst != s {
			t.errf(key, "%s %q conflicts with %s %q set at %s", key, s, key, *dst, at)
			return
		}
		*dst, *at = s, t.pos(key)
	}
	set("name", &l.env.Name, &l.envNamePos)
	set("description", &l.env.Description, &l.envDescPos)
}

func (l *loader) readServiceTags(root *tab) {
	t := root.table("service_tags", "service_tags")
	if t == nil {
		return
	}
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := t.node.keyLine(keys[i]), t.node.keyLine(keys[j])
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	for _, name := range keys {
		pos := t.pos(name)
		lower := strings.ToLower(name)
		switch {
		case !tagNameRE().MatchString(name) || lower == "any" || lower == "all":
			t.errf(name, "service tag %q: invalid name; a tag name starts with a letter and has only letters, digits, '.', '-' and '_' (like Storage.WestEurope)", name)
			continue
		}
		if canon, ok := l.tags[lower]; ok {
			if prev, declared := l.tagPos[lower]; declared {
				msg := fmt.Sprintf("service tag %q is defined twice; first defined at %s", name, prev)
				if canon != name {
					msg += fmt.Sprintf(" as %q (tags are case-insensitive)", canon)
				}
				t.errf(name, "%s", msg)
			} else {
				t.errf(name, "service tag %q is built in (%s); it cannot be redefined", name, canon)
			}
			continue
		}
		items, _, _, ok := t.strOrStrs(name)
		if !ok {
			continue
		}
		prefixes := make([]netip.Prefix, 0, len(items))
		bad := false
		for _, s := range items {
			p, err := ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				t.errf(name, "service tag %q: %v", name, err)
				bad = true
				continue
			}
			prefixes = append(prefixes, p)
		}
		l.tags[lower] = name
		l.tagPos[lower] = pos
		l.tagNames = append(l.tagNames, name)
		if bad {
			continue
		}
		if len(prefixes) == 0 {
			t.warnf(name, "service tag %q has no prefixes; rules that use it match no address", name)
		}
		l.env.ServiceTags[name] = prefixes
	}
}

func (l *loader) resolveTag(name string) (string, bool) {
	t, ok := l.tags[strings.ToLower(name)]
	return t, ok
}
