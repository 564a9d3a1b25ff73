package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/inkform/inkform/plans/planfile"
)

// checkPlanOut refuses a plan -out name whose file saving the plan would
// destroy: a .hcl file, which is configuration even when it does not exist
// yet (the next load would read the plan as HCL), and an existing file
// that is not a plan file. An empty file, as mktemp makes, may be
// replaced. It runs before the fleet is observed, so a typo costs nothing.
func checkPlanOut(name string) error {
	if name == "" {
		return nil
	}
	if strings.EqualFold(filepath.Ext(name), ".hcl") {
		return fmt.Errorf("-out %s: a .hcl file is configuration, not a plan; save the plan under another name, such as plan.out", name)
	}
	// Stat before opening: opening a fifo would block.
	fi, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-out %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("-out %s: not a regular file; a plan is saved to a file of its own", name)
	}
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("-out %s: %w", name, err)
	}
	defer fh.Close()
	head := make([]byte, planfile.MagicLen)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("-out %s: %w", name, err)
	}
	if n > 0 && !planfile.IsPlanFile(head[:n]) {
		return fmt.Errorf("-out %s: the file exists and is not an inkform plan file; refusing to replace it (remove it, or choose another name)", name)
	}
	return nil
}
