package http

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The embedded web server's JSON replies, as docs/protocols/ews.md defines
// them. Printers are not all strict about types, so scalar values of any
// JSON type are taken as their text.

// DecodeSettings reads a GET /api/settings reply: a JSON object from field
// to value. Strings are taken as they are, numbers as written, booleans as
// "true"/"false"; null, objects and arrays are left out (the settings they
// carry read as unsupported).
func DecodeSettings(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("settings reply is not a JSON object: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("settings reply is not a JSON object: null")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			if v {
				out[k] = "true"
			} else {
				out[k] = "false"
			}
		}
	}
	return out, nil
}

// FieldError is one field a POST /api/settings refused.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"` // "unknown" (no such field) or "invalid"
	Message string `json:"message"`
}

// DecodeFieldErrors reads a 400 reply to POST /api/settings:
// {"errors": [{"field", "code", "message"}, …]}.
func DecodeFieldErrors(body []byte) ([]FieldError, error) {
	var r struct {
		Errors []FieldError `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("error reply is not the expected JSON: %w", err)
	}
	return r.Errors, nil
}
