package npap

// Vector is a named message with a fixed encoding: the test vectors of
// the specification (testdata/NAME.hex holds each one's bytes, and
// docs/protocols/npap.md shows them). Other packages' tests use them to
// check both sides of the protocol against the same bytes.
type Vector struct {
	Name string
	Msg  Message
}

// Vectors returns the specification's examples, one per kind of
// datagram.
func Vectors() []Vector {
	mac := [6]byte{0x00, 0x21, 0xb7, 0x7d, 0x00, 0x01}
	return []Vector{
		{"identify-request", Message{Op: OpIdentify, ID: 1}},
		{"identify-reply", Message{Op: OpIdentify, Reply: true, ID: 1, Identity: &Identity{
			Vendor: "Lexmark", Model: "Lexmark CX725", Serial: "LXK7D0001", Firmware: "CXTPC.081.215", MAC: mac}}},
		{"status-request", Message{Op: OpStatus, ID: 2}},
		{"status-reply", Message{Op: OpStatus, Reply: true, ID: 2, Status: StatusDown, Alerts: []Alert{
			{Kind: AlertRaised, Severity: 3, Group: 8, GroupIndex: 1, Code: 8, Description: "Paper jam in Tray 1"}}}},
		{"read-request", Message{Op: OpRead, ID: 3, Numbers: []uint16{257, 258, 513, 515}}},
		{"read-reply", Message{Op: OpRead, Reply: true, ID: 3, Values: []Value{
			{Number: 257, Type: TypeString, Text: "IT Service Desk x4000"},
			{Number: 258, Type: TypeString, Text: "HQ 2F"},
			{Number: 513, Type: TypeInteger, Text: "15"},
			{Number: 515, Type: TypeBool, Text: "true"}}}},
		{"write-request", Message{Op: OpWrite, ID: 4, Password: "inkform-sim", Values: []Value{
			{Number: 258, Type: TypeString, Text: "HQ 3F"},
			{Number: 513, Type: TypeInteger, Text: "30"}}}},
		{"write-reply", Message{Op: OpWrite, Reply: true, ID: 4, Results: []Result{
			{Number: 258, Code: CodeOK}, {Number: 513, Code: CodeOK}}}},
		{"write-reply-partial", Message{Op: OpWrite, Reply: true, ID: 5, Results: []Result{
			{Number: 258, Code: CodeOK}, {Number: 9999, Code: CodeUnknownSetting}}}},
		{"register-request", Message{Op: OpRegister, ID: 6, Password: "inkform-sim", Port: 9187, Lifetime: 3600}},
		{"register-reply", Message{Op: OpRegister, Reply: true, ID: 6, Lifetime: 3600}},
		{"unregister-request", Message{Op: OpUnregister, ID: 7, Password: "inkform-sim", Port: 9187}},
		{"unregister-reply", Message{Op: OpUnregister, Reply: true, ID: 7}},
		{"alert-raised", Message{Op: OpAlert, ID: 8, Alerts: []Alert{
			{Kind: AlertRaised, Severity: 3, Group: 6, GroupIndex: 1, Code: 501, Description: "Front door open"}}}},
		{"alert-cleared", Message{Op: OpAlert, ID: 9, Alerts: []Alert{
			{Kind: AlertCleared, Severity: 3, Group: 6, GroupIndex: 1, Code: 501, Description: "Front door open"}}}},
		{"alert-ack", Message{Op: OpAlert, Reply: true, ID: 9}},
		{"error-reply", Message{Op: OpWrite, Reply: true, ID: 10, Error: &Error{Code: CodeUnauthorized, Text: "wrong password"}}},
	}
}
