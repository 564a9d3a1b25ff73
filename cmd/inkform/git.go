package main

import (
	"os"
	"path/filepath"
	"strings"
)

// gitCommit returns the commit checked out in the git work tree holding
// dir, recorded with each run; "" outside one.
func gitCommit(dir string) string {
	// Read .git/HEAD directly: the git binary may be absent on CI images.
	for d := dir; ; {
		head, err := os.ReadFile(filepath.Join(d, ".git", "HEAD"))
		if err == nil {
			ref, isRef := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
			if !isRef {
				return ref
			}
			if b, err := os.ReadFile(filepath.Join(d, ".git", ref)); err == nil {
				return strings.TrimSpace(string(b))
			}
			packed, _ := os.ReadFile(filepath.Join(d, ".git", "packed-refs"))
			for _, line := range strings.Split(string(packed), "\n") {
				if hash, name, ok := strings.Cut(line, " "); ok && name == ref {
					return hash
				}
			}
			return ""
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
