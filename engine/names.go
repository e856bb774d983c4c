package engine

// nameTable finds a VM by name: open addressing with FNV-1a, a few dozen instructions per
// lookup where a Go map of strings takes several times that (it is on the verdict path).
type nameTable struct {
	slots []*vmEntry // power-of-two length, at most half full
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func newNameTable(entries []*vmEntry) nameTable {
	n := 8
	for n < 2*len(entries) {
		n *= 2
	}
	t := nameTable{slots: make([]*vmEntry, n)}
	for _, e := range entries {
		i := fnv(e.vm.Name) & uint64(n-1)
		for t.slots[i] != nil {
			i = (i + 1) & uint64(n-1)
		}
		t.slots[i] = e
	}
	return t
}

func (t nameTable) get(name string) *vmEntry {
	mask := uint64(len(t.slots) - 1)
	for i := fnv(name) & mask; ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == nil || e.vm.Name == name {
			return e
		}
	}
}
