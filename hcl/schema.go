package hcl

import hhcl "github.com/hashicorp/hcl/v2"

// Block types and their schemas. Body.Content reports anything not listed
// here as unsupported, with a "Did you mean" suggestion.
const (
	blockState         = "state"
	blockVariable      = "variable"
	blockLocals        = "locals"
	blockCredentials   = "credentials"
	blockConfiguration = "configuration"
	blockPrinter       = "printer"
)

var fileSchema = &hhcl.BodySchema{
	Blocks: []hhcl.BlockHeaderSchema{
		{Type: blockState, LabelNames: []string{"backend"}},
		{Type: blockVariable, LabelNames: []string{"name"}},
		{Type: blockLocals},
		{Type: blockCredentials, LabelNames: []string{"name"}},
		{Type: blockConfiguration, LabelNames: []string{"name"}},
		{Type: blockPrinter, LabelNames: []string{"name"}},
	},
}

var stateSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "path"}, {Name: "dsn"}},
}

var variableSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "sensitive"}, {Name: "description"},
	},
	Blocks: []hhcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "condition", Required: true}, {Name: "error_message", Required: true},
	},
}

var credentialsSchema = &hhcl.BodySchema{
	Blocks: []hhcl.BlockHeaderSchema{{Type: "snmp"}},
}

var snmpSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "version"}, {Name: "community"}, {Name: "user"},
		{Name: "auth_protocol"}, {Name: "auth_passphrase"},
		{Name: "priv_protocol"}, {Name: "priv_passphrase"},
		{Name: "timeout"}, {Name: "retries"},
	},
}

// Shorthand attributes and the catalog settings they stand for.
var shorthands = []struct{ attr, setting string }{
	{"contact", "system.contact"},
	{"name", "system.name"},
	{"location", "system.location"},
}

var configurationSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "contact"}, {Name: "name"}, {Name: "location"}, {Name: "settings"},
	},
}

var printerSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "for_each"},
		{Name: "address", Required: true},
		{Name: "serial"},
		{Name: "contact"}, {Name: "name"}, {Name: "location"},
		{Name: "configuration"},
		{Name: "credentials"},
		{Name: "keywords"},
		{Name: "settings"},
	},
}
