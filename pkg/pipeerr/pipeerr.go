package pipeerr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Kind is a class of failure. Its string is the ASL error name.
type Kind string

// The kinds. InvalidInput.* are permanent (the document or request is at
// fault: retrying cannot help); Transient.* are retried by the state machine;
// Storage.* are faults of the file system that no retry heals within an
// execution (a full disk, a read-only mount, a permission the process lacks):
// they end the execution at once, naming the path and the cause, and leave
// the job's checkpoint for a replay once the operator has fixed the mount;
// Internal is a bug (a recovered panic, a broken invariant).
const (
	NotPDF       Kind = "InvalidInput.NotPDF"
	Damaged      Kind = "InvalidInput.Damaged"
	Encrypted    Kind = "InvalidInput.Encrypted"
	TooLarge     Kind = "InvalidInput.TooLarge"
	TooManyPages Kind = "InvalidInput.TooManyPages"
	NoPages      Kind = "InvalidInput.NoPages"
	BadRequest   Kind = "InvalidInput.BadRequest"

	IO      Kind = "Transient.IO"
	Timeout Kind = "Transient.Timeout"
	Busy    Kind = "Transient.Busy"

	NoSpace    Kind = "Storage.NoSpace"
	ReadOnly   Kind = "Storage.ReadOnly"
	Permission Kind = "Storage.Permission"

	Internal Kind = "Internal"
)

type kindInfo struct {
	retry   bool
	summary string
}

var kinds = map[Kind]kindInfo{
	NotPDF:       {false, "not a PDF file"},
	Damaged:      {false, "the PDF is damaged and cannot be read safely"},
	Encrypted:    {false, "the PDF is encrypted and needs a user password"},
	TooLarge:     {false, "the input exceeds a configured limit"},
	TooManyPages: {false, "the PDF has more pages than the configured limit"},
	NoPages:      {false, "the PDF has no pages"},
	BadRequest:   {false, "the request is invalid"},
	IO:           {true, "a storage operation failed"},
	Timeout:      {true, "the stage ran out of time"},
	Busy:         {true, "the job is being processed by another run"},
	NoSpace:      {false, "no space left on the file system"},
	ReadOnly:     {false, "the file system is read-only"},
	Permission:   {false, "permission denied"},
	Internal:     {false, "internal error"},
}

// Kinds lists every kind, in a fixed order.
func Kinds() []Kind {
	return []Kind{NotPDF, Damaged, Encrypted, TooLarge, TooManyPages, NoPages, BadRequest, IO, Timeout, Busy, NoSpace, ReadOnly, Permission, Internal}
}

// Retryable reports whether the state machine retries this kind.
func (k Kind) Retryable() bool { return kinds[k].retry }

// Permanent reports whether the input itself is at fault (InvalidInput.*).
func (k Kind) Permanent() bool {
	_, ok := kinds[k]
	return ok && strings.HasPrefix(string(k), "InvalidInput.")
}

// Summary is a short user-facing description of the kind.
func (k Kind) Summary() string { return kinds[k].summary }

func (k Kind) String() string { return string(k) }

// Error is a classified failure. Msg is a user-facing reason ("page tree has a
// cycle at object 12"); Err is the underlying cause, kept for errors.Is/As.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Kind.Summary() + ": " + e.Err.Error()
	}
	return e.Kind.Summary()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a formatted reason.
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap classifies err as kind k, with a formatted reason. Wrap(k, nil, ...) is nil.
// Wrap(IO, err, ...) of a full disk, a read-only file system or a refused
// permission is that Storage.* kind instead: callers wrap "an I/O error" and
// the cause decides whether a retry can heal it.
func Wrap(k Kind, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if k == IO {
		k = cmp.Or(storage(err), IO)
	}
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// storage is the Storage.* kind of a file-system error, or "".
func storage(err error) Kind {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return NoSpace
	case errors.Is(err, syscall.EROFS):
		return ReadOnly
	case errors.Is(err, fs.ErrPermission): // EACCES, EPERM
		return Permission
	}
	return ""
}

// KindOf classifies any error. A classified error keeps its kind even when
// wrapped (an IO one whose cause is a full disk, a read-only file system or
// a refused permission is that Storage.* kind); context deadlines are
// Timeout; ENOSPC/EDQUOT, EROFS and EACCES/EPERM are their Storage.* kinds;
// other file-system errors but "not exist" are IO (EFS hiccups, a dropped
// connection: worth a retry); anything else is Internal.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Kind == IO {
			return cmp.Or(storage(e.Err), IO)
		}
		return e.Kind
	}
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		if _, ok := kinds[Kind(ie.Type)]; ok {
			return Kind(ie.Type)
		}
		return Internal
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case storage(err) != "":
		return storage(err)
	case errors.Is(err, fs.ErrNotExist):
		return Internal
	}
	var pe *os.PathError
	var le *os.LinkError
	var se *os.SyscallError
	if errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &se) {
		return IO
	}
	return Internal
}

// Reason is the one-line user-facing reason for err.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ForLambda converts err into the value aws-lambda-go reports, whose Type is
// the ASL error name. aws-lambda-go names an error by its Go type and does not
// unwrap, except for messages.InvokeResponse_Error, which it passes through:
// that is the only way to report a dotted name such as InvalidInput.NotPDF.
func ForLambda(err error) error {
	if err == nil {
		return nil
	}
	return messages.InvokeResponse_Error{Type: string(KindOf(err)), Message: err.Error()}
}

// FileType names what was found where efspipe expected a regular file or a
// directory of its own, for an error message: "a directory", "a symlink",
// "a FIFO (named pipe)", "a socket", "a device", "a file".
func FileType(m fs.FileMode) string {
	switch m.Type() {
	case 0:
		return "a file"
	case fs.ModeDir:
		return "a directory"
	case fs.ModeSymlink:
		return "a symlink"
	case fs.ModeNamedPipe:
		return "a FIFO (named pipe)"
	case fs.ModeSocket:
		return "a socket"
	case fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		return "a device"
	}
	return "a " + m.Type().String()
}
