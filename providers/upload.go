package providers

import (
	"errors"
	"io"
)

// ErrSourceLonger is returned by an UploadReader whose source goes on past
// its declared size.
var ErrSourceLonger = errors.New("the source is longer than its declared size")

// UploadReader yields exactly size bytes of a source and reports progress.
// A source that ends early (io.ErrUnexpectedEOF) or goes on past size
// (ErrSourceLonger) is an error, not an end of file, so a file transport
// aborts the transfer instead of delivering a complete-looking but wrong
// file. Every file transport reads uploads through one.
type UploadReader struct {
	r        io.Reader
	left     int64
	sent     int64
	progress func(sent int64)
	onFail   func()
}

// NewUploadReader reads size bytes from r. progress, when not nil, is called
// with the bytes read so far; onFail, when not nil, is called once before
// the first error is returned (e.g. to reset a data connection).
func NewUploadReader(r io.Reader, size int64, progress func(sent int64), onFail func()) *UploadReader {
	return &UploadReader{r: r, left: size, progress: progress, onFail: onFail}
}

// Sent returns the bytes read so far.
func (u *UploadReader) Sent() int64 { return u.sent }

func (u *UploadReader) Read(b []byte) (int, error) {
	if u.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > u.left {
		b = b[:u.left]
	}
	n, err := u.r.Read(b)
	u.left -= int64(n)
	if n > 0 {
		u.sent += int64(n)
		if u.progress != nil {
			u.progress(u.sent)
		}
	}
	switch {
	case err == io.EOF && u.left > 0:
		return n, u.fail(io.ErrUnexpectedEOF)
	case err != nil && err != io.EOF:
		return n, u.fail(err)
	case u.left == 0:
		var one [1]byte
		if m, _ := io.ReadFull(u.r, one[:]); m > 0 {
			return n, u.fail(ErrSourceLonger)
		}
	}
	return n, nil
}

func (u *UploadReader) fail(err error) error {
	if u.onFail != nil {
		u.onFail()
		u.onFail = nil
	}
	return err
}
