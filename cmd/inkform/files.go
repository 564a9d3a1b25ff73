package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/planfile"
)

// readPlanFile reads a plan saved by plan -out.
func readPlanFile(path string) (*plans.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	defer fh.Close()
	p, err := planfile.Read(fh)
	if err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return p, nil
}

// savePlan writes a plan file readable only by its owner (it names every
// printer and hashes of their settings).
func savePlan(name string, p *plans.Plan) error {
	return writeFileAtomic(name, 0o600, func(w io.Writer) error { return planfile.Write(w, p) })
}

// writeFileAtomic replaces name with what write produces, through a
// temporary file in the same directory renamed into place, so that a
// crash or an error never leaves half a file.
func writeFileAtomic(name string, perm os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".inkform-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	bw := bufio.NewWriterSize(tmp, 256<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
