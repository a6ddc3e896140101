package peer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"
)

// ChromiumFlags are the flags StartChromium runs the browser with: headless, no
// sandbox (tests may run as root), and nothing that talks to the network by itself
// (updates, sync, QUIC, background fetches), so that every request the test sees is
// one the page under test made.
var ChromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars"}

// Chromium is a headless chromium a test started, driven through the DevTools
// protocol over --remote-debugging-pipe (NUL-terminated JSON on file descriptors 3
// and 4; no port, no websocket).
type Chromium struct {
	*Daemon
	w *os.File

	mu      sync.Mutex
	nextID  int64
	waiting map[int64]chan cdpMessage
	events  []CDPEvent
	readErr error
}

// CDPEvent is one DevTools protocol event (a message without an id).
type CDPEvent struct {
	Method    string          `json:"method"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params"`
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// StartChromium starts chromium (Debian's package; required under CI=true) headless
// with ChromiumFlags and a fresh --user-data-dir under dir, on about:blank. It is
// closed through the protocol and then stopped by PID at cleanup.
func StartChromium(t testing.TB, dir string) *Chromium {
	t.Helper()
	bin := Require(t, "chromium")
	toChrome, chromeIn, err := os.Pipe() // chromium reads commands on fd 3
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	chromeOut, fromChrome, err := os.Pipe() // and writes answers on fd 4
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	args := append(slices.Clone(ChromiumFlags), "--user-data-dir="+dir, "--remote-debugging-pipe", "about:blank")
	cmd := exec.Command(bin, args...)
	log := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	cmd.SysProcAttr = ownGroup()
	if err := cmd.Start(); err != nil {
		t.Fatalf("peer: start chromium: %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	d := &Daemon{Cmd: cmd, Name: bin, log: log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	c := &Chromium{Daemon: d, w: chromeIn, waiting: make(map[int64]chan cdpMessage)}
	go c.read(chromeOut)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.Call(ctx, "", "Browser.close", nil, nil)
		cancel()
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
		}
		d.Stop()
		chromeIn.Close()
		chromeOut.Close()
	})
	return c
}

func (c *Chromium) read(r *os.File) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("peer: chromium pipe: %w", err)
			for id, ch := range c.waiting {
				close(ch)
				delete(c.waiting, id)
			}
			c.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(b[:len(b)-1], &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.waiting[m.ID]; ok {
				ch <- m
				delete(c.waiting, m.ID)
			}
		} else {
			c.events = append(c.events, CDPEvent{Method: m.Method, SessionID: m.SessionID, Params: m.Params})
		}
		c.mu.Unlock()
	}
}

// Call sends one protocol command (to the browser when session is "", else to that
// attached target) and decodes its result into result (unless nil).
func (c *Chromium) Call(ctx context.Context, session, method string, params, result any) error {
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return c.readErr
	}
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return fmt.Errorf("peer: chromium %s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("peer: chromium %s: pipe closed (%s)", method, c.Output())
		}
		if m.Error != nil {
			return fmt.Errorf("peer: chromium %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
		return fmt.Errorf("peer: chromium %s: %w", method, ctx.Err())
	}
}

// Events returns the events received so far.
func (c *Chromium) Events() []CDPEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}

// WaitEvent waits until an event named method has arrived for session.
func (c *Chromium) WaitEvent(ctx context.Context, session, method string) (CDPEvent, error) {
	for {
		for _, e := range c.Events() {
			if e.Method == method && e.SessionID == session {
				return e, nil
			}
		}
		select {
		case <-ctx.Done():
			return CDPEvent{}, fmt.Errorf("peer: chromium: no %s event: %w", method, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// NewPage opens a blank page target and attaches to it (flat session), returning the
// session id for Call.
func (c *Chromium) NewPage(ctx context.Context) (string, error) {
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	if err := c.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &tgt); err != nil {
		return "", err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att); err != nil {
		return "", err
	}
	return att.SessionID, nil
}

// Eval evaluates a JavaScript expression in the page of session and decodes its
// (JSON-serialisable) value into out; a thrown exception is an error.
func (c *Chromium) Eval(ctx context.Context, session, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := c.Call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("peer: chromium: %q threw %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// Click presses and releases the left mouse button at (x, y) CSS pixels of the page
// of session, as a user's click does (the page's own event handlers run).
func (c *Chromium) Click(ctx context.Context, session string, x, y float64) error {
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p := map[string]any{"type": typ, "x": x, "y": y}
		if typ != "mouseMoved" {
			p["button"], p["clickCount"] = "left", 1
		}
		if err := c.Call(ctx, session, "Input.dispatchMouseEvent", p, nil); err != nil {
			return err
		}
	}
	return nil
}
