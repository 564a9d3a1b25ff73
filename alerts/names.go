package alerts

// codeNames maps the Printer-MIB prtAlertCode values (RFC 3805,
// PrtAlertCodeTC) that have an event name of their own. Codes not listed
// are Other, with the printer's description.
var codeNames = map[int]string{
	3:    CoverOpen,
	8:    Jam,
	501:  DoorOpen,
	801:  InputTrayMissing,
	807:  PaperLow,
	808:  PaperEmpty,
	902:  OutputAlmostFull,
	903:  OutputFull,
	1101: TonerEmpty,
	1104: TonerLow,
	1109: WasteTonerFull,
	1115: TonerMissing,
}

// clearingCodes are the "closed" codes that end the alert of another
// code (coverClosed ends coverOpen, doorClosed ends doorOpen).
var clearingCodes = map[int]int{
	4:   3,
	502: 501,
}

// serviceCodes are the failures that need a technician: the subunit
// failures (29–38) and the fuser's (1001–1004).
func serviceCode(code int) bool {
	return (code >= 29 && code <= 38) || (code >= 1001 && code <= 1004)
}

// NameForCode returns the event name of a prtAlertCode: one of the names
// above, ServiceRequested for the failures that need a technician, or
// Other.
func NameForCode(code int) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	if serviceCode(code) {
		return ServiceRequested
	}
	return Other
}

// ClearedBy returns the code whose alert code ends (coverClosed ends
// coverOpen), and false when code ends none.
func ClearedBy(code int) (int, bool) {
	c, ok := clearingCodes[code]
	return c, ok
}

// DefaultSeverity is the severity of an event name when the source does
// not say: what stops printing is critical, what will soon is a warning.
func DefaultSeverity(name string) Severity {
	switch name {
	case Jam, CoverOpen, DoorOpen, InputTrayMissing, PaperEmpty, OutputFull,
		TonerEmpty, WasteTonerFull, TonerMissing, Offline, SupplyEmpty, ServiceRequested:
		return Critical
	case PaperLow, OutputAlmostFull, TonerLow, SupplyLow, Drift:
		return Warning
	}
	return Info
}

// Names lists every event name, for validation and documentation.
func Names() []string {
	return []string{Jam, CoverOpen, DoorOpen, InputTrayMissing, PaperLow, PaperEmpty,
		OutputAlmostFull, OutputFull, TonerEmpty, TonerLow, WasteTonerFull, TonerMissing,
		ServiceRequested, Offline, SupplyLow, SupplyEmpty, Drift, Other}
}

// SeverityFromMIB maps prtAlertSeverityLevel (RFC 3805: other 1,
// critical 3, warning 4, warningBinaryChangeEvent 5) to a Severity, using
// the event's default when the printer says "other".
func SeverityFromMIB(level int, name string) Severity {
	switch level {
	case 3:
		return Critical
	case 4, 5:
		return Warning
	}
	return DefaultSeverity(name)
}
