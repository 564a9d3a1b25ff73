package snmp

import (
	"fmt"
	"slices"
	"testing"

	"github.com/inkform/inkform/catalog"
)

func TestReadPlan(t *testing.T) {
	plans := newReadPlans(catalog.Default())
	names := []string{"system.location", "no.such.setting", "system.contact"}
	rp := plans.get(names)
	if !slices.Equal(rp.scalars[:len(factOIDs)], factOIDs) {
		t.Errorf("scalars start %v, want the facts %v", rp.scalars[:len(factOIDs)], factOIDs)
	}
	var got []string
	for _, so := range rp.settings {
		got = append(got, so.oid+"="+fmt.Sprint(so.names))
	}
	want := []string{".1.3.6.1.2.1.1.4.0=[system.contact]", ".1.3.6.1.2.1.1.6.0=[system.location]"}
	if !slices.Equal(got, want) {
		t.Errorf("settings = %v, want %v", got, want)
	}
	if !slices.Equal(rp.scalars[len(factOIDs):], []string{".1.3.6.1.2.1.1.4.0", ".1.3.6.1.2.1.1.6.0"}) {
		t.Errorf("scalars after the facts = %v", rp.scalars[len(factOIDs):])
	}
	if !slices.Equal(rp.unsupported, []string{"no.such.setting"}) {
		t.Errorf("unsupported = %v", rp.unsupported)
	}
	if again := plans.get(slices.Clone(names)); again != rp {
		t.Error("the same names gave a new plan; want the cached one")
	}
	if other := plans.get(names[:1]); other == rp {
		t.Error("other names gave the cached plan")
	}
	for i := range maxReadPlans + 10 {
		plans.get([]string{fmt.Sprint("x", i)})
	}
	if n := len(plans.plans); n > maxReadPlans {
		t.Errorf("cache holds %d plans, bound is %d", n, maxReadPlans)
	}
}
