package providers

import (
	"context"
	"errors"
	"io"

	"github.com/inkform/inkform/fleet"
)

// Beside SNMP (which observes facts and implements Session), printers are
// reached over transports that carry only settings (PJL, the embedded web
// server) or only files (FTP), or both (HTTP upload + EWS form). A printer's
// `transports` list orders them; the router in providers/router picks, per
// setting, the first transport that has a binding for it and answers. The
// catalog's transport table says what each name carries.

// ErrPortClosed is wrapped by Dial errors that mean the transport's port is
// closed or filtered: the caller falls back to the next transport and the
// plan says so.
var ErrPortClosed = errors.New("port closed")

// ErrUnsupported is wrapped by errors that mean the device understood the
// request but does not have the setting or feature.
var ErrUnsupported = errors.New("not supported by this device")

// SettingsTransport dials printers for reading and writing settings.
// Implementations are safe for concurrent use.
type SettingsTransport interface {
	Name() string // its name in the catalog's transport table, as in HCL
	DialSettings(ctx context.Context, p fleet.Printer) (SettingsConn, error)
}

// SettingsConn reads and writes settings on one printer over one transport.
// Family is the model family (catalog.FamilyOf the observed model), which
// selects the catalog bindings. Names without a binding for this transport
// and family, and names the device answers as unknown, come back in
// unsupported; they are not errors.
type SettingsConn interface {
	ReadSettings(ctx context.Context, family string, names []string) (values map[string]string, unsupported []string, err error)
	// WriteSettings is idempotent; callers verify by reading again.
	WriteSettings(ctx context.Context, family string, values []fleet.Desired) error
	Close() error
}

// FileTransport dials printers for sending files.
type FileTransport interface {
	Name() string // its name in the catalog's transport table, as in HCL
	DialFiles(ctx context.Context, p fleet.Printer) (FileConn, error)
}

// FileConn sends files to one printer.
type FileConn interface {
	// Upload sends size bytes from r as f.Dest (or the source's base name).
	// progress, when not nil, is called with the bytes sent so far.
	Upload(ctx context.Context, f fleet.File, r io.Reader, progress func(sent int64)) error
	Close() error
}

// FileSender is implemented by sessions that can also deploy files (the
// router's). The planner asserts it on a Session.
type FileSender interface {
	// SendFile uploads f from f.Source over f.Via, or over the first
	// file-capable transport of the printer's preference when Via is "".
	// A closed port falls back to the next transport. It returns the
	// transport that carried the file. progress, when not nil, is called
	// with the bytes sent so far. Its errors name the printer and the
	// file: callers add nothing.
	SendFile(ctx context.Context, f fleet.File, progress func(sent int64)) (transport string, err error)
}
