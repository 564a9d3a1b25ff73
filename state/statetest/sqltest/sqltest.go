// Package sqltest holds the checks every SQL state backend runs beyond the
// conformance suite in statetest: what one database shared by several
// stores, over time, must keep (schema versions, upgrades of an older
// schema, two stores at once, reopening).
package sqltest

import (
	"context"
	"testing"
	"time"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
