package hcl

import (
	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/catalog"
)

// Block types and their schemas. Body.Content reports anything not listed
// here as unsupported, with a "Did you mean" suggestion.
const (
	blockState         = "state"
	blockVariable      = "variable"
	blockLocals        = "locals"
	blockCredentials   = "credentials"
	blockConfiguration = "configuration"
	blockPrinter       = "printer"
	blockSetting       = "setting"
	blockFirmware      = "firmware"
	blockDevice        = "device"
	blockSMTP          = "smtp"
	blockAlertRoute    = "alert_route"
	blockWatch         = "watch"
	blockReport        = "report"
)

var fileSchema = &hhcl.BodySchema{
	Blocks: []hhcl.BlockHeaderSchema{
		{Type: blockState, LabelNames: []string{"backend"}},
		{Type: blockVariable, LabelNames: []string{"name"}},
		{Type: blockLocals},
		{Type: blockCredentials, LabelNames: []string{"name"}},
		{Type: blockConfiguration, LabelNames: []string{"name"}},
		{Type: blockPrinter, LabelNames: []string{"name"}},
		{Type: blockSetting, LabelNames: []string{"name"}},
		{Type: blockFirmware, LabelNames: []string{"name"}},
		{Type: blockDevice, LabelNames: []string{"name"}},
		{Type: blockSMTP},
		{Type: blockAlertRoute, LabelNames: []string{"name"}},
		{Type: blockWatch},
		{Type: blockReport, LabelNames: []string{"name"}},
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
	Blocks: []hhcl.BlockHeaderSchema{{Type: "snmp"}, {Type: "admin"}},
}

var adminSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "username"}, {Name: "password"}},
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

// deliveryAttributes say how settings and files reach a printer; a
// configuration sets them for its printers and a printer may override each.
var deliveryAttributes = []hhcl.AttributeSchema{
	{Name: "transports"}, {Name: "ports"}, {Name: "tls_fingerprint"}, {Name: "ca_cert"},
	{Name: "files"}, {Name: blockFirmware}, {Name: "secured"},
}

var configurationSchema = &hhcl.BodySchema{
	Attributes: append([]hhcl.AttributeSchema{
		{Name: "contact"}, {Name: "name"}, {Name: "location"}, {Name: "settings"},
	}, deliveryAttributes...),
}

var printerSchema = &hhcl.BodySchema{
	Attributes: append([]hhcl.AttributeSchema{
		{Name: "for_each"},
		{Name: "address", Required: true},
		{Name: "serial"},
		{Name: "contact"}, {Name: "name"}, {Name: "location"},
		{Name: "configuration"},
		{Name: "credentials"},
		{Name: "keywords"},
		{Name: "settings"},
	}, deliveryAttributes...),
}

var settingSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "type"}, {Name: "description"}, {Name: "unit"},
		{Name: "min"}, {Name: "max"}, {Name: "max_length"}, {Name: "enum"},
		{Name: "default"}, {Name: "families"},
	},
	Blocks: bindingBlocks(),
}

// settingBindingSchemas are the sub-blocks of a setting block, one per
// catalog binding kind.
var settingBindingSchemas = map[catalog.BindingKind]*hhcl.BodySchema{
	catalog.BindingSNMP: settingSNMPSchema,
	catalog.BindingPJL:  settingPJLSchema,
	catalog.BindingEWS:  settingEWSSchema,
	catalog.BindingNPAP: settingNPAPSchema,
}

func bindingBlocks() []hhcl.BlockHeaderSchema {
	out := make([]hhcl.BlockHeaderSchema, len(catalog.BindingKinds))
	for i, k := range catalog.BindingKinds {
		out[i] = hhcl.BlockHeaderSchema{Type: string(k)}
	}
	return out
}

var settingSNMPSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "oid", Required: true}, {Name: "type"}},
}

var settingPJLSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "variable", Required: true}, {Name: "values"}},
}

var settingEWSSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "field", Required: true}},
}

var settingNPAPSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "id", Required: true}},
}

var firmwareSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "models", Required: true}, {Name: "version", Required: true},
		{Name: "file", Required: true}, {Name: "sha256", Required: true},
		{Name: "via"}, {Name: "dest"},
	},
	Blocks: []hhcl.BlockHeaderSchema{{Type: "rollout"}},
}

var rolloutSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "batch"}, {Name: "max_failures"}},
}

var smtpSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "host", Required: true}, {Name: "port"}, {Name: "encryption"},
		{Name: "username"}, {Name: "password"}, {Name: "from", Required: true},
		{Name: "ca_cert"}, {Name: "timeout"},
	},
}

var alertRouteSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "grace"}, {Name: "repeat"}, {Name: "also_on_clear"},
		{Name: "group_wait"}, {Name: "group_interval"},
		{Name: "subject"}, {Name: "body"},
	},
	Blocks: []hhcl.BlockHeaderSchema{{Type: "match"}, {Type: "email"}},
}

var matchSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "events"}, {Name: "severity"}, {Name: "printers"}, {Name: "keywords"},
	},
}

var emailSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "to", Required: true}, {Name: "cc"}},
}

// Sub-blocks of the watch block. A new part of the service (the status
// page, NPAP intake) adds its block here and a case in decodeWatch.
const (
	watchTraps      = "traps"
	watchNPAP       = "npap"
	watchDrift      = "drift"
	watchStatusPage = "status_page"
)

var watchSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "poll"}, {Name: "trap_ttl"}, {Name: "offline_after"}, {Name: "low_percent"}, {Name: "retention"},
	},
	Blocks: []hhcl.BlockHeaderSchema{{Type: watchTraps}, {Type: watchNPAP}, {Type: watchDrift}, {Type: watchStatusPage}},
}

var trapsSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "listen"}, {Name: "allow"}},
}

var statusPageSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "listen", Required: true}, {Name: "tls_cert"}, {Name: "tls_key"},
		{Name: "metrics_listen"}, {Name: "session_ttl"}, {Name: "url"},
	},
	Blocks: []hhcl.BlockHeaderSchema{{Type: "ldap"}, {Type: "kerberos"}},
}

var ldapSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "url", Required: true}, {Name: "start_tls"}, {Name: "insecure"}, {Name: "ca_file"},
		{Name: "bind_dn"}, {Name: "bind_password"},
		{Name: "user_base", Required: true}, {Name: "user_filter"}, {Name: "group_base"},
		{Name: "roles", Required: true}, {Name: "timeout"},
	},
}

var kerberosSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "keytab", Required: true}, {Name: "service", Required: true}, {Name: "realm"}},
}

var driftSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "every", Required: true}, {Name: "enforce"}},
}

var reportSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "schedule", Required: true}, {Name: "view", Required: true}},
	Blocks:     []hhcl.BlockHeaderSchema{{Type: "email"}},
}
