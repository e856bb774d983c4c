//go:build unix

package server

import (
	"io/fs"
	"syscall"
)

// inode identifies a file across a rename-over (how editors and `mv` replace one).
func inode(fi fs.FileInfo) any {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return [2]uint64{uint64(st.Dev), st.Ino}
	}
	return nil
}
