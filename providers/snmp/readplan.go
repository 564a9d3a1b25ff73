package snmp

import (
	"slices"
	"strings"
	"sync"

	"github.com/inkform/inkform/catalog"
)

// readPlan is what Observe asks of an agent for one list of setting names:
// the facts and the settings' OIDs in one list, and which names have no
// SNMP binding. It depends only on the names and the catalog, and a fleet
// shares a few lists (one per configuration), so it is worked out once per
// list rather than once per printer.
type readPlan struct {
	scalars     []string      // fact OIDs, then the settings' OIDs sorted; never modified
	settings    []oidSettings // sorted by OID
	unsupported []string      // requested names without an SNMP binding, in request order
}

// oidSettings are the setting names one OID answers.
type oidSettings struct {
	oid   string
	names []string
}

// factOIDs are read on every observation, in this order.
var factOIDs = []string{
	oidSysDescr, oidSysObjectID, oidSysUpTime,
	oidHrDeviceType + ".1", oidHrDeviceDescr + ".1", oidHrDeviceStatus + ".1",
	oidHrPrinterStatus + ".1", oidHrPrinterErrors + ".1",
	oidPrtSerial, oidPrtLifeCount,
}

func newReadPlan(cat *catalog.Catalog, settings []string) *readPlan {
	rp := &readPlan{}
	byOID := map[string][]string{}
	for _, name := range settings {
		st, ok := cat.Lookup(name)
		if !ok || st.SNMP == nil || st.SNMP.OID == "" {
			rp.unsupported = append(rp.unsupported, name)
			continue
		}
		oid := "." + strings.TrimPrefix(st.SNMP.OID, ".")
		byOID[oid] = append(byOID[oid], name)
	}
	rp.scalars = slices.Clone(factOIDs)
	for _, oid := range sortedKeys(byOID) {
		rp.settings = append(rp.settings, oidSettings{oid: oid, names: byOID[oid]})
		if !slices.Contains(rp.scalars, oid) {
			rp.scalars = append(rp.scalars, oid)
		}
	}
	return rp
}

// maxReadPlans bounds the cache: configurations with more distinct
// setting lists than this plan the rest without it.
const maxReadPlans = 256

// readPlans caches a catalog's read plans per list of names. Safe for
// concurrent use.
type readPlans struct {
	cat   *catalog.Catalog
	mu    sync.RWMutex
	plans map[string]*readPlan // key: the names joined by NUL
}

func newReadPlans(cat *catalog.Catalog) *readPlans {
	return &readPlans{cat: cat, plans: map[string]*readPlan{}}
}

func (c *readPlans) get(settings []string) *readPlan {
	key := strings.Join(settings, "\x00")
	c.mu.RLock()
	rp, ok := c.plans[key]
	c.mu.RUnlock()
	if ok {
		return rp
	}
	rp = newReadPlan(c.cat, settings)
	c.mu.Lock()
	if len(c.plans) < maxReadPlans {
		c.plans[key] = rp
	}
	c.mu.Unlock()
	return rp
}
