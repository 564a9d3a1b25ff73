package pjl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/inkform/inkform/fleet"
)

// chunkSize is how much of a file is written at a time: the unit of
// progress reports and of the per-write timeout.
const chunkSize = 32 << 10

// Upload streams r to the print port as raw bytes, exactly as read: no PJL
// wrapping (firmware images carry their own PJL header). A PJL job with an
// ECHO follows the stream, so the printer ends the data at its UEL and the
// echo confirms it took the whole stream. A printer that closes the
// connection after the stream instead of echoing (a firmware install
// restarting it) counts as having taken it. An unsolicited status with an
// error code (USTATUS CODE=4xxxx or above) before the echo fails the
// upload with the printer's display text. A file whose bytes contain a UEL
// would end the stream early on a real printer; firmware images are built
// that way on purpose.
//
// f.Size and f.SHA256, when set, are checked against what was sent. The
// stream is not repeated after an error: retrying is the caller's choice.
func (c *Conn) Upload(ctx context.Context, f fleet.File, r io.Reader, progress func(sent int64)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := f.RemoteName()
	if err := c.connectLocked(ctx); err != nil {
		return err
	}
	err := c.uploadLocked(ctx, name, f, r, progress)
	if err != nil {
		c.dropLocked()
	}
	return err
}

func (c *Conn) uploadLocked(ctx context.Context, name string, f fleet.File, r io.Reader, progress func(sent int64)) error {
	nc := c.nc
	nc.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	defer stop()

	h := sha256.New()
	buf := make([]byte, chunkSize)
	var sent int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			// A deadline per chunk, not per file: a large image on a slow
			// link takes long, but no single write may stall. The caller's
			// context bounds the whole.
			if err := c.extendDeadline(ctx, nc.SetWriteDeadline); err != nil {
				return c.ioError(ctx, "send "+name, err)
			}
			if _, err := nc.Write(buf[:n]); err != nil {
				return c.ioError(ctx, "send "+name, err)
			}
			h.Write(buf[:n])
			sent += int64(n)
			if progress != nil {
				progress(sent)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("printer %s: pjl: read %s: %w", c.printer, name, rerr)
		}
	}
	if f.Size > 0 && sent != f.Size {
		return fmt.Errorf("printer %s: pjl: %s: sent %d bytes, expected %d; the source changed while it was sent", c.printer, name, sent, f.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); f.SHA256 != "" && !strings.EqualFold(sum, f.SHA256) {
		return fmt.Errorf("printer %s: pjl: %s: sent bytes have sha256 %s, expected %s; the source changed while it was sent", c.printer, name, sum, f.SHA256)
	}

	token := c.t.token()
	echo, err := Echo(token)
	if err != nil {
		return fmt.Errorf("printer %s: pjl: %w", c.printer, err)
	}
	if err := c.extendDeadline(ctx, nc.SetDeadline); err != nil {
		return c.ioError(ctx, "end "+name, err)
	}
	if _, err := nc.Write(Job(echo)); err != nil {
		return c.ioError(ctx, "end "+name, err)
	}
	replies, err := c.awaitEcho(ctx, nc, token)
	if err != nil {
		if errors.Is(err, io.EOF) && ctx.Err() == nil {
			return nil
		}
		return fmt.Errorf("%w (after sending %s, %d bytes)", err, name, sent)
	}
	if msg, failed := statusError(replies); failed {
		return fmt.Errorf("printer %s: pjl: %s: the printer reported %s", c.printer, name, msg)
	}
	return nil
}

// extendDeadline sets a deadline of one timeout from now with set, unless
// ctx has ended. A context that ends afterwards sets the deadline to now
// (see uploadLocked); checking after setting means a cancellation that
// came between two chunks is never undone by the next chunk's deadline.
func (c *Conn) extendDeadline(ctx context.Context, set func(time.Time) error) error {
	if err := set(time.Now().Add(c.t.opts.Timeout)); err != nil {
		return err
	}
	return ctx.Err()
}

// statusError finds an unsolicited status with an error code (40000 and
// up: operator intervention, paper, jams, hardware) among the replies.
func statusError(replies []Reply) (string, bool) {
	for _, r := range replies {
		if !strings.HasPrefix(strings.ToUpper(r.Command), "USTATUS") {
			continue
		}
		var code int
		var display string
		for _, e := range ParseEntries(r.Lines) {
			switch strings.ToUpper(e.Name) {
			case "CODE":
				code, _ = strconv.Atoi(e.Value)
			case "DISPLAY":
				display = printable(e.Value, 80)
			}
		}
		if code >= 40000 {
			return fmt.Sprintf("status %d %q", code, display), true
		}
	}
	return "", false
}

// printable keeps at most n printable ASCII characters of a peer's text.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		if r >= ' ' && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}
