package alerts

import (
	"path"
	"strings"
	"text/template"
	"time"
)

// TemplateData is what an alert_route's subject and body templates see.
// The fields of the first alert are promoted, so a template for single
// alerts writes {{.Printer}} and {{.Event}}; a digest ranges over
// {{.Alerts}}. Fields are part of the configuration language: never
// rename or remove one.
type TemplateData struct {
	Route string
	// StatusPage is the status page's address, "" when there is none.
	StatusPage string
	// TemplateAlert is the first alert of the email (for one alert, the
	// only one).
	TemplateAlert
	// Alerts are every alert the email carries, oldest first; a digest
	// sent after group_wait has several.
	Alerts []TemplateAlert
	// Count is how many alerts the email carries (len(Alerts)).
	Count int
}

// TemplateAlert is one alert as templates see it.
type TemplateAlert struct {
	Printer  string
	Model    string
	Serial   string
	Location string
	Keywords []string
	Event    string // the event name, such as "jam"
	Kind     Kind   // raised or cleared
	Severity Severity
	// Description says what happened in the printer's words or inkform's.
	Description string
	Time        time.Time
	// Link is the printer's page on the status page, "" when there is none.
	Link string
	// Repeat: a reminder that the alert is still active (route repeat).
	Repeat bool
	// Code is the Printer-MIB alert code, 0 when none.
	Code int
	// Source is where the event came from: trap, poll, npap, drift.
	Source string
	// Key identifies the alert (inkform alerts show KEY).
	Key string
}

// TemplateFuncs are the functions templates may call besides text/template's
// built-ins: join (strings.Join with the list first), upper and lower.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"join":  func(list []string, sep string) string { return strings.Join(list, sep) },
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
	}
}

// ParseTemplate parses a subject or body template as watch executes it:
// with TemplateFuncs, and failing on a missing map key rather than
// printing "<no value>".
func ParseTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Funcs(TemplateFuncs()).Option("missingkey=error").Parse(src)
}

// ExampleTemplateData is an alert with every field set, for checking
// templates and for test emails.
func ExampleTemplateData(route string) TemplateData {
	a := TemplateAlert{
		Printer:     "hq-2f-east",
		Model:       "Lexmark CX725",
		Serial:      "7531A2B",
		Location:    "HQ 2F East",
		Keywords:    []string{"hq", "color"},
		Event:       Jam,
		Kind:        Raised,
		Severity:    Critical,
		Description: "Paper jam in tray 2",
		Time:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Link:        "https://inkform.example.com/printers/hq-2f-east",
		Code:        8,
		Source:      SourceTrap,
		Key:         KeyFor("hq-2f-east", Jam, "8.2"),
	}
	return TemplateData{Route: route, StatusPage: "https://inkform.example.com/", TemplateAlert: a, Alerts: []TemplateAlert{a}, Count: 1}
}

// Views lists the report views, for validation and documentation.
func Views() []string {
	return []string{ViewInventory, ViewSupplies, ViewPageCounts, ViewAlerts, ViewDrift}
}

// Severities lists the severities, most urgent first.
func Severities() []Severity {
	return []Severity{Critical, Warning, Info}
}

// PrinterMatches reports whether an alert_route's printers entry selects the
// printer name: the same name, or a path.Match glob matching it. A
// malformed glob matches nothing but its own name.
func PrinterMatches(pattern, name string) bool {
	if pattern == name {
		return true
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
