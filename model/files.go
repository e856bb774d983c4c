package model

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxFileSize is the largest file ipflow reads unless told otherwise: far above any real
// estate (10,000 VMs are about 20 MB of fixture TOML, or 54 MB of Azure CLI JSON), far below what
// would exhaust a shared machine.
const DefaultMaxFileSize = 1 << 30

// ReadFile reads the file at path, which must be a regular file (following symbolic links) of at
// most maxBytes (DefaultMaxFileSize when maxBytes <= 0). A FIFO, device, socket or directory, or
// a larger file, is an error naming it, found before anything is read: reading a FIFO could wait
// forever, and /dev/zero or a sparse file would fill the memory.
func ReadFile(path string, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileSize
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkFile(path, st, maxBytes); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One buffer of the size Stat gave (growing one from small, as io.ReadAll does, costs a
	// tenth of a second on a 20 MB fixture in copies and page faults), then io.ReadAll for what
	// a file that grew since Stat adds, at most one byte past the limit to tell.
	data := make([]byte, 0, st.Size()+1)
	if st.Size() >= parallelReadSize {
		// Copying a large file into fresh memory is page faults more than anything: in parts,
		// one per CPU, they are taken together.
		data = readParts(f, data[:st.Size()])
		if _, err := f.Seek(int64(len(data)), io.SeekStart); err != nil {
			return nil, err
		}
	}
	for int64(len(data)) < st.Size() {
		n, err := f.Read(data[len(data):st.Size()])
		data = data[:len(data)+n]
		if err == io.EOF || n == 0 && err == nil {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(data)) == st.Size() {
		more, err := io.ReadAll(io.LimitReader(f, maxBytes+1-st.Size()))
		if err != nil {
			return nil, err
		}
		data = append(data, more...)
	}
	if int64(len(data)) > maxBytes {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("over the %s limit (--max-file-size raises it)", FormatBytes(maxBytes))}
	}
	return data, nil
}

// checkFile says why the file at path, with info st, is not read: not a regular file, or larger
// than maxBytes.
func checkFile(path string, st fs.FileInfo, maxBytes int64) error {
	if !st.Mode().IsRegular() {
		return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("it is %s, not a regular file", modeName(st.Mode()))}
	}
	if st.Size() > maxBytes {
		return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%s, over the %s limit (--max-file-size raises it)", FormatBytes(st.Size()), FormatBytes(maxBytes))}
	}
	return nil
}

// parallelReadSize is the size from which ReadFile reads a file in parts.
const parallelReadSize = 8 << 20

// readParts reads buf from f in parts, at once, and returns the part of buf read from the
// start without a gap: all of it, unless the file shrank or a read failed (ReadFile then reads
// the rest, or finds the error, one read at a time).
func readParts(f *os.File, buf []byte) []byte {
	parts := min(runtime.GOMAXPROCS(0), 4)
	got := make([]int, parts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := i*len(buf)/parts, (i+1)*len(buf)/parts
		wg.Go(func() {
			n, _ := f.ReadAt(buf[lo:hi], int64(lo))
			got[i] = lo + n
		})
	}
	wg.Wait()
	for i := range parts {
		if hi := (i + 1) * len(buf) / parts; got[i] < hi {
			return buf[:got[i]]
		}
	}
	return buf
}

func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// FormatBytes writes a size for people: 1 GiB, 64.5 MiB, 912 bytes.
func FormatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + " " + units[i]
}

// ParseBytes reads a size: a number of bytes, or a number with a unit K, M, G or T (each a power
// of 1024; "KiB", "KB" and "k" are the same unit).
func ParseBytes(s string) (int64, error) {
	num, mult := strings.ToLower(strings.TrimSpace(s)), int64(1)
	num = strings.TrimSuffix(strings.TrimSuffix(num, "b"), "i")
	if n := len(num); n > 0 {
		if k := strings.IndexByte("kmgt", num[n-1]); k >= 0 {
			num, mult = num[:n-1], int64(1)<<(10*(k+1))
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (like 2GiB, 500M or 1048576)", Printable(s))
	}
	return n * mult, nil
}
