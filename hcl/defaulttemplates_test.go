package hcl

import (
	"testing"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch"
)

// The templates watch uses when a route sets none pass the same check as
// a route's own: what validate accepts and what watch renders agree.
func TestDefaultTemplatesPassTheCheck(t *testing.T) {
	for name, src := range map[string]string{"subject": watch.DefaultSubject, "body": watch.DefaultBody} {
		tmpl, err := alerts.ParseTemplate(name, src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p := checkTemplateFields(tmpl, name); p != nil {
			t.Errorf("%s: %+v", name, p)
		}
	}
}
