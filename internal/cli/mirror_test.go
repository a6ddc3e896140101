package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/pipeline"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestMirrorCommand runs `bgpfilter mirror` in-process against the real RIPE NRTMv4
// files (through a notification signed here), against the published wrong-signature
// notification, and with bad flags.
func TestMirrorCommand(t *testing.T) {
	snap := peer.SharedData(t, "nrtm/ripe-whois-nrtm4/nrtm-snapshot.1.RIPE.json")
	base := filepath.Dir(snap)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	fileRef := func(v int, name string) map[string]any {
		b, err := os.ReadFile(filepath.Join(base, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return map[string]any{"version": v, "url": "file://" + filepath.Join(base, name), "hash": hex.EncodeToString(sum[:])}
	}
	var deltas []any
	for v := 2; v <= 5; v++ {
		deltas = append(deltas, fileRef(v, "nrtm-delta."+string(rune('0'+v))+".RIPE.json"))
	}
	payload, _ := json.Marshal(map[string]any{"nrtm_version": 4, "timestamp": time.Now().UTC().Format(time.RFC3339), "type": "notification",
		"source": "RIPE", "session_id": "4521174b-548f-4e51-98fc-dfd720011a0c", "version": 5,
		"snapshot": fileRef(1, "nrtm-snapshot.1.RIPE.json"), "deltas": deltas})
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"EdDSA"}`)) + "." + enc.EncodeToString(payload)
	notifDir := t.TempDir()
	os.WriteFile(filepath.Join(notifDir, "update-notification-file.jose"), []byte(input+"."+enc.EncodeToString(ed25519.Sign(priv, []byte(input)))), 0o644)

	wrongDir := t.TempDir()
	wrong, err := os.ReadFile(peer.SharedData(t, "nrtm/ripe-whois-nrtm4/nrtm-RIPE-wrong-signature.jose"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(wrongDir, "update-notification-file.jose"), wrong, 0o644)
	ripeKey := peer.SharedData(t, "nrtm/ripe-whois-nrtm4/public.key")

	mdir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrRe string
	}{
		{"nrtm4 snapshot and deltas", []string{"--dir", mdir, "--source", "RIPE", "--nrtm4", notifDir, "--nrtm4-key", keyFile, "--once"},
			ExitOK, "RIPE: nrtm4 session 4521174b-548f-4e51-98fc-dfd720011a0c version 5, 7 objects\n", ""},
		{"remembered configuration", []string{"--dir", mdir, "--once"},
			ExitOK, "RIPE: nrtm4 session 4521174b-548f-4e51-98fc-dfd720011a0c version 5, 7 objects\n", ""},
		{"wrong signature", []string{"--dir", t.TempDir(), "--source", "RIPE", "--nrtm4", wrongDir, "--nrtm4-key", ripeKey, "--once"},
			ExitData, "RIPE: serial 0, 0 objects\n", "signature check failed"},
		{"nrtm4 without key", []string{"--dir", t.TempDir(), "--source", "RIPE", "--nrtm4", notifDir, "--once"}, ExitUsage, "", "needs --nrtm4-key"},
		{"dump without serial", []string{"--dir", t.TempDir(), "--source", "RADB", "--dump", snap, "--nrtm3", "127.0.0.1:43", "--once"}, ExitUsage, "", "needs --serial"},
		{"no sources", []string{"--dir", t.TempDir(), "--once"}, ExitUsage, "", "no sources"},
		{"bad nrtm3", []string{"--dir", t.TempDir(), "--source", "RADB", "--nrtm3", "nohostport", "--once"}, ExitUsage, "", "HOST:PORT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), append([]string{"bgpfilter", "--quiet", "mirror"}, tc.args...), &stdout, &stderr)
			if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderrRe) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderrRe)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(mdir, "RIPE.db")); err != nil || !strings.Contains(string(b), "route:          176.240.50.0/24") {
		t.Errorf("RIPE.db: %v", err)
	}

	// What whois-server --mirror does: the mirror's objects are in the index at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ix := irr.NewIndex()
	log := slog.New(slog.DiscardHandler)
	if err := pipeline.StartMirror(ctx, ix, mdir, log); err != nil {
		t.Fatal(err)
	}
	r, err := ix.Routes(ctx, []string{"RIPE"}, []routing.ASN{47524}, false)
	if err != nil || len(r[0]) != 1 || r[0][0].String() != "176.240.50.0/24" {
		t.Errorf("index after startMirror: %v, %v", r, err)
	}
	if err := pipeline.StartMirror(ctx, irr.NewIndex(), t.TempDir(), log); err == nil {
		t.Error("startMirror on an empty directory succeeded")
	}
}
