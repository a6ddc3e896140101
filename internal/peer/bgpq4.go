package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// BGPQ4Timeout bounds one bgpq4 run: bgpq4 has no timeout of its own and waits for
// ever on a server that does not answer.
const BGPQ4Timeout = 60 * time.Second

// Result is what a finished program printed and its exit status.
type Result struct {
	Stdout, Stderr string
	Code           int // exit status, 0 on success
}

// RunBGPQ4 runs the bgpq4 at prog against the IRRd-protocol server at addr ("-h addr"
// goes before args) with env as its whole environment (nil: this process's). A
// non-zero exit is part of the Result; the error reports only a bgpq4 that could not
// be run or did not finish within BGPQ4Timeout. It does not touch a testing.T, so
// worker goroutines may call it.
func RunBGPQ4(prog, addr string, env []string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), BGPQ4Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, append([]string{"-h", addr}, args...)...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("bgpq4 %q: timed out after %s (the server did not answer)", args, BGPQ4Timeout)
	}
	r := Result{Stdout: o.String(), Stderr: e.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		return Result{}, fmt.Errorf("bgpq4 %q: %w", args, err)
	}
	return r, nil
}

// BGPQ4 is RunBGPQ4 for the test goroutine: it fails the test instead of returning
// an error.
func BGPQ4(t testing.TB, prog, addr string, env []string, args ...string) Result {
	t.Helper()
	r, err := RunBGPQ4(prog, addr, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
