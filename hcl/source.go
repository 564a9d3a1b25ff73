package hcl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// DefaultMaxFileSize bounds every file Load reads (configuration, variable
// files, file(), CA bundles) unless LoadOptions.MaxFileSize says otherwise:
// a configuration symlinked to /dev/zero must fail at once, not fill memory.
const DefaultMaxFileSize = 64 << 20

// ReadFile reads a configuration file as Load does: a regular file of at
// most DefaultMaxFileSize bytes.
func ReadFile(path string) ([]byte, error) {
	return readRegular(path, DefaultMaxFileSize)
}

// errNotRegular is wrapped when a path names a device, fifo, socket or
// directory: reading one could block forever or never end.
var errNotRegular = errors.New("not a regular file")

// readRegular reads a regular file of at most limit bytes. Its errors name the path and never repeat it.
func readRegular(path string, limit int64) ([]byte, error) {
	src, err := readRegularFile(path, limit)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("cannot read %s: %w", path, pe.Err)
	}
	return src, err
}

func readRegularFile(path string, limit int64) ([]byte, error) {
	f, info, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	src, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(src)) > limit {
		return nil, tooLarge(path, limit)
	}
	return src, nil
}

// openRegular opens a regular file. The type is checked before opening,
// since opening a fifo blocks until a writer comes, and again on the open
// file, in case the path changed in between.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	if info, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if err := checkRegular(path, info); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil {
		err = checkRegular(path, info)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

func checkRegular(path string, info os.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	kind := "a special file"
	switch m := info.Mode(); {
	case m.IsDir():
		kind = "a directory"
	case m&os.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&os.ModeSocket != 0:
		kind = "a socket"
	case m&os.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("%s is %s, %w", path, kind, errNotRegular)
}

func tooLarge(path string, limit int64) error {
	return fmt.Errorf("%s is larger than the limit of %d bytes for files the configuration reads", path, limit)
}
