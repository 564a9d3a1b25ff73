package snmp

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
)

// Set writes values with SNMP SET, as few PDUs as MaxOIDsPerPDU allows.
// Within one PDU the agent applies all values or none; across PDUs it does
// not, which is harmless because Set is idempotent and callers verify by
// observing. Errors name the printer, the setting and the SNMP status,
// never the value (it may be sensitive).
func (s *Session) Set(ctx context.Context, values []fleet.Desired) error {
	if len(values) == 0 {
		return nil
	}
	pdus := make([]gosnmp.SnmpPDU, 0, len(values))
	names := make([]string, 0, len(values))
	for _, d := range values {
		pdu, err := s.setPDU(d)
		if err != nil {
			return err
		}
		pdus = append(pdus, pdu)
		names = append(names, d.Name)
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	for start := 0; start < len(pdus); start += s.maxOIDs {
		end := min(start+s.maxOIDs, len(pdus))
		if err := s.setChunk(ctx, pdus[start:end], names[start:end]); err != nil {
			return err
		}
	}
	return nil
}

// setPDU builds the varbind for one value, typed per the catalog.
func (s *Session) setPDU(d fleet.Desired) (gosnmp.SnmpPDU, error) {
	st, ok := s.cat.Lookup(d.Name)
	if !ok {
		return gosnmp.SnmpPDU{}, fmt.Errorf("printer %s: set %s: unknown setting", s.name, d.Name)
	}
	if st.SNMP == nil || st.SNMP.OID == "" {
		return gosnmp.SnmpPDU{}, fmt.Errorf("printer %s: set %s: the setting has no SNMP binding", s.name, d.Name)
	}
	value, err := st.Validate(d.Value)
	if err != nil {
		if d.Sensitive {
			// Validation messages may quote the value.
			return gosnmp.SnmpPDU{}, fmt.Errorf("printer %s: set %s: invalid value (sensitive, not shown)", s.name, d.Name)
		}
		return gosnmp.SnmpPDU{}, fmt.Errorf("printer %s: set %s: %w", s.name, d.Name, err)
	}
	oid := "." + strings.TrimPrefix(st.SNMP.OID, ".")
	switch st.SNMP.Type {
	case "octetstring":
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.OctetString, Value: []byte(value)}, nil
	case "integer":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
			return gosnmp.SnmpPDU{}, fmt.Errorf("printer %s: set %s: value is not a 32-bit integer as SNMP requires", s.name, d.Name)
		}
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: int(n)}, nil
	}
	return gosnmp.SnmpPDU{}, fmt.Errorf("printer %s: set %s: unknown SNMP type %q in the catalog", s.name, d.Name, st.SNMP.Type)
}

func (s *Session) setChunk(ctx context.Context, pdus []gosnmp.SnmpPDU, names []string) error {
	s.g.Context = ctx
	pkt, err := s.g.Set(pdus)
	if err != nil {
		return s.wrap("set "+strings.Join(names, ", "), err)
	}
	s.answered = true
	switch pkt.Error {
	case gosnmp.NoError:
		return nil
	case gosnmp.TooBig:
		if len(pdus) == 1 {
			return fmt.Errorf("printer %s: set %s: tooBig", s.name, names[0])
		}
		half := len(pdus) / 2
		if err := s.setChunk(ctx, pdus[:half], names[:half]); err != nil {
			return err
		}
		return s.setChunk(ctx, pdus[half:], names[half:])
	}
	// The error index names the failing varbind (1-based); 0 means the
	// agent did not say which.
	which := strings.Join(names, ", ")
	if i := int(pkt.ErrorIndex) - 1; i >= 0 && i < len(names) {
		which = names[i]
	}
	hint := ""
	if pkt.Error == gosnmp.NoAccess || pkt.Error == gosnmp.AuthorizationError {
		hint = " (the credentials may be read-only)"
	}
	return fmt.Errorf("printer %s: set %s: %s%s", s.name, which, statusName(pkt.Error), hint)
}
