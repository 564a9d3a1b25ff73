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
