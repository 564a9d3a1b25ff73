package hcl

import (
	"testing"

	"github.com/inkform/inkform/catalog"
)

// TestSettingBindingSchemas: a setting block takes a sub-block for every
// catalog binding kind, so a kind the catalog adds needs its schema here.
func TestSettingBindingSchemas(t *testing.T) {
	for _, k := range catalog.BindingKinds {
		if settingBindingSchemas[k] == nil {
			t.Errorf("binding kind %s: no setting sub-block schema", k)
		}
	}
	if len(settingBindingSchemas) != len(catalog.BindingKinds) {
		t.Errorf("%d sub-block schemas for %d binding kinds", len(settingBindingSchemas), len(catalog.BindingKinds))
	}
}
