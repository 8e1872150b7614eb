// Package usererr carries the user-facing side of an error: a kind that maps
// to an exit code and an HTTP status in one place, a message safe to show,
// and a hint on how to fix the problem. Internal detail stays in the wrapped
// error and goes to logs, never to the user.
package usererr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for exit codes and HTTP statuses.
type Kind int

// The kinds, from most to least specific.
const (
	Internal     Kind = iota // the operation failed for a reason the user cannot fix
	Usage                    // bad flags, arguments or configuration
	Invalid                  // a request or input that failed validation
	NotFound                 // the named thing does not exist
	Conflict                 // the state forbids the operation (locked, already exists)
	Unauthorized             // no or bad credentials
	Forbidden                // credentials lack the permission
	Unavailable              // the service cannot serve now (sealed, shutting down)
	Failed                   // the operation ran and said no: a gate found something, a verification found problems
)

// Error is an error with a user-facing message and hint.
type Error struct {
	Kind    Kind
	Message string // safe to show the user
	Hint    string // how to fix it, if known
	Err     error  // internal cause, for logs
}

func (e *Error) Error() string {
	s := e.Message
	if e.Err != nil && e.Message == "" {
		s = e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error of kind k that keeps err as its cause.
func Wrap(k Kind, err error, message string) *Error {
	return &Error{Kind: k, Message: message, Err: err}
}

// WithHint returns e with a hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var ue *Error
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return Internal
}

// HintOf returns the hint of the first *Error in err's chain that has one.
func HintOf(err error) string {
	for err != nil {
		var ue *Error
		if !errors.As(err, &ue) {
			return ""
		}
		if ue.Hint != "" {
			return ue.Hint
		}
		err = ue.Err
	}
	return ""
}

// Exit codes of the phoenix command.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// ExitCode maps err to the process exit code, the one place that does
// (docs/operations.md, "Scripting the command line"): 0 ok; 2 the command
// line, an input or a configuration is wrong and running it again as it
// is fails again (Usage, and Invalid: a value that failed validation,
// here or on the server, which answers it as 400 with code "invalid");
// 1 the operation failed (everything else: a gate said no, the thing
// does not exist, the server refused the credentials or the state, or
// could not be reached).
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case KindOf(err) == Usage, KindOf(err) == Invalid:
		return ExitUsage
	default:
		return ExitFailed
	}
}

// HTTPStatus maps err to an HTTP status code.
func HTTPStatus(err error) int {
	switch KindOf(err) {
	case Usage, Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case Unavailable:
		return http.StatusServiceUnavailable
	case Failed:
		return http.StatusUnprocessableEntity
	default:
		return http.StatusInternalServerError
	}
}

// Code is the stable machine-readable name of a kind, used in API errors.
func (k Kind) Code() string {
	return [...]string{"internal", "usage", "invalid", "not_found", "conflict",
		"unauthorized", "forbidden", "unavailable", "failed"}[k]
}

// KindFromAPI is the kind of an API error from its status and the code in
// its body (Kind.Code): the code tells apart kinds that share a status
// (Usage and Invalid are both 400; Failed and a proxy's 422 are both
// 422); a code that does not fit the status is ignored.
func KindFromAPI(status int, code string) Kind {
	for k := Internal; k <= Failed; k++ {
		if k.Code() == code && HTTPStatus(New(k, "")) == status {
			return k
		}
	}
	return KindFromHTTP(status)
}

// KindFromHTTP is the inverse of HTTPStatus, for API clients; 429 (the
// API's sign-in limit, a proxy's rate limit) is Unavailable: try later.
func KindFromHTTP(status int) Kind {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return Invalid
	case http.StatusNotFound:
		return NotFound
	case http.StatusConflict:
		return Conflict
	case http.StatusUnauthorized:
		return Unauthorized
	case http.StatusForbidden:
		return Forbidden
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return Unavailable
	default:
		return Internal
	}
}
