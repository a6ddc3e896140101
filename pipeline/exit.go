// Package pipeline is bgpfilter's job layer: it opens the IRR and RPKI sources a job
// names (files, snapshots, whois servers, the answer cache, RTR caches), keeps the
// bookkeeping a run reports (stale answers, RPKI counts), builds and renders filters,
// writes outputs and the JSON run summary atomically, and maps every error to the
// exit code of the command-line contract in one function (ExitCode). internal/cli
// turns flags into the job specs defined here; nothing in this package parses flags.
package pipeline

import (
	"context"
	"errors"
	"os"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/mirror"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
)

// Exit codes of the command-line contract (../shared/DESIGN.md).
const (
	ExitOK          = 0
	ExitUsage       = 1
	ExitData        = 2 // bad input, object not found
	ExitUnavailable = 3 // source unavailable or timeout
	ExitGuard       = 4 // a safety guard refused to write

	// rpki validate reports the route's state in its exit code so scripts can branch
	// without parsing the output: 0 valid, ExitROVInvalid, ExitROVNotFound. They are
	// above the error codes (1-4) so a failed run is never mistaken for a state.
	ExitROVInvalid  = 10
	ExitROVNotFound = 11
)

// ExitCode is the one mapping from an error to the exit code of the command-line
// contract. An explicit code attached with WithCode wins (the code that attached it
// knew whether the user or the data was at fault); otherwise the error's sentinel
// decides; fallback is the code for an error no sentinel classifies (the caller knows
// what it was doing: parsing flags, reading data, talking to a server).
func ExitCode(err error, fallback int) int {
	var ce *codedError
	var se *mirror.ServerError
	var oe *irr.ObjectError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, policy.ErrInvalidOption):
		return ExitUsage
	// A name taken from the data that the vendor cannot hold, an unknown object or a
	// missing member is the data's fault (a --name given by the user is refused with
	// ExitUsage before anything is built).
	case errors.Is(err, render.ErrInvalidName), errors.Is(err, policy.ErrUnknownObject),
		errors.Is(err, policy.ErrMissingMember), errors.Is(err, irr.ErrNotFound),
		errors.Is(err, irr.ErrSnapshot), errors.As(err, &oe):
		return ExitData
	case errors.Is(err, irr.ErrUnavailable), errors.Is(err, irr.ErrUnknownSource),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, mirror.ErrLocked):
		return ExitUnavailable
	case errors.Is(err, mirror.ErrSignature), errors.Is(err, mirror.ErrNRTM4),
		errors.Is(err, mirror.ErrNRTMFormat), errors.Is(err, mirror.ErrSerial),
		errors.Is(err, mirror.ErrObject), errors.As(err, &se), errors.Is(err, os.ErrNotExist):
		return ExitData
	}
	return fallback
}

// WithCode attaches an exit code to err (nil stays nil); ExitCode returns it.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }
func (e *codedError) ExitCode() int { return e.code }

// ErrQuiet carries an exit status whose message has already been printed (bgpq4's
// own diagnostics, rpki validate's state).
var ErrQuiet = errors.New("")
