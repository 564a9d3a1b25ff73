package memstate_test

import (
	"testing"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
	"github.com/inkform/inkform/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store { return memstate.New() })
}

// The in-memory outbox keeps the same contract as the SQL ones.
func TestOutboxConformance(t *testing.T) {
	statetest.RunOutbox(t, func(t *testing.T) state.Store { return memstate.New() })
}

func TestAuditConformance(t *testing.T) {
	statetest.RunAudit(t, func(t *testing.T) state.Store { return memstate.New() })
}
