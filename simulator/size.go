package simulator

import (
	"math/bits"

	"github.com/gosnmp/gosnmp"
)

// BER encoded sizes, computed the way gosnmp encodes, so that a GETBULK
// answer can be cut to MaxResponseSize without marshalling once per varbind.

// tlvSize is the size of a TLV with n content bytes.
func tlvSize(n int) int {
	switch {
	case n < 0x80:
		return 2 + n
	case n <= 0xFF:
		return 3 + n
	case n <= 0xFFFF:
		return 4 + n
	case n <= 0xFFFFFF:
		return 5 + n
	}
	return 6 + n
}

func base128Size(v uint64) int {
	return max(1, (bits.Len64(v)+6)/7)
}

// oidContentSize is the content size of an OID given in dotted form; -1
// when the OID cannot be parsed.
func oidContentSize(name string) int {
	arcs, ok := parseOID(make([]uint32, 0, 32), name)
	if !ok {
		return -1
	}
	if len(arcs) < 2 {
		return 1
	}
	size := base128Size(uint64(arcs[0])*40 + uint64(arcs[1]))
	for _, a := range arcs[2:] {
		size += base128Size(uint64(a))
	}
	return size
}

// intSize is the content size of a two's complement INTEGER.
func intSize(v int64) int {
	n := 1
	for v < -128 || v > 127 {
		v >>= 8
		n++
	}
	return n
}

// valueSize is the size of a varbind's value TLV, -1 when unknown.
func valueSize(vb gosnmp.SnmpPDU) int {
	switch vb.Type {
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.BitString:
		switch v := vb.Value.(type) {
		case string:
			return tlvSize(len(v))
		case []byte:
			return tlvSize(len(v))
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := vb.Value.(string); ok {
			if n := oidContentSize(s); n >= 0 {
				return tlvSize(n)
			}
		}
	case gosnmp.Integer:
		if v, ok := vb.Value.(int); ok {
			return tlvSize(intSize(int64(v)))
		}
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Uinteger32:
		if v, ok := vb.Value.(uint32); ok {
			return tlvSize(intSize(int64(v))) // unsigned, with a leading zero when the top bit is set
		}
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return 2
	}
	return -1
}

// varbindSize is the encoded size of one varbind, -1 when unknown.
func varbindSize(vb gosnmp.SnmpPDU) int {
	name, value := oidContentSize(vb.Name), valueSize(vb)
	if name < 0 || value < 0 {
		return -1
	}
	return tlvSize(tlvSize(name) + value)
}

// responseSize is the size of a v1/v2c response message whose varbinds
// take vbl bytes.
func responseSize(community int, requestID uint32, vbl int) int {
	pdu := tlvSize(intSize(int64(requestID))) + 3 + 3 + tlvSize(vbl) // request id, error status, error index
	return tlvSize(3 + tlvSize(community) + tlvSize(pdu))
}
