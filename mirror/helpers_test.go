package mirror

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// signer makes test notification files: an ES256 (P-256) or EdDSA (Ed25519) key and
// its public key as PEM.
type signer struct {
	alg    string
	priv   crypto.Signer
	pubPEM string
}

func newSigner(t testing.TB, alg string) *signer {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &signer{alg: alg, priv: priv, pubPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

// sign returns payload as a JWS in compact serialization.
func (s *signer) sign(t testing.TB, payload []byte) []byte {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"`+s.alg+`"}`)) + "." + enc.EncodeToString(payload)
	var sig []byte
	switch k := s.priv.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256([]byte(input))
		r, ss, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	}
	return []byte(input + "." + enc.EncodeToString(sig) + "\n")
}

// ref describes a file for a notification: file:// URL and SHA-256.
func ref(t testing.TB, version uint64, path string) FileRef {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return FileRef{Version: version, URL: "file://" + path, Hash: hex.EncodeToString(sum[:])}
}

// writeNotification signs n and writes it as dir/update-notification-file.jose.
func writeNotification(t testing.TB, s *signer, dir string, n Notification) {
	t.Helper()
	n.NRTMVersion, n.Type = 4, "notification"
	if n.Timestamp == "" {
		n.Timestamp = "2026-11-25T12:00:00Z"
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/"+NotificationName, s.sign(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func routes(t testing.TB, ix *irr.Index, source string, asn routing.ASN, v6 bool) []string {
	t.Helper()
	r, err := ix.Routes(context.Background(), []string{source}, []routing.ASN{asn}, v6)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range r[0] {
		out = append(out, p.String())
	}
	return out
}

func objectKeys(m *Mirror, source string) []string {
	var out []string
	for _, o := range m.Objects(source) {
		out = append(out, o.Class+" "+o.Key)
	}
	slices.Sort(out)
	return out
}

func find(m *Mirror, source, class, key string) *Object {
	for _, o := range m.Objects(source) {
		if o.Class == class && o.Key == key {
			return o
		}
	}
	return nil
}

// nrtmServer is an NRTMv3 endpoint on loopback: it reads one "-g" query per
// connection and answers with the reply that reply() chooses for it.
type nrtmServer struct {
	addr    string
	mu      sync.Mutex
	queries []string
	reply   func(query string) []byte
}

func startNRTMServer(t *testing.T, reply func(query string) []byte) *nrtmServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &nrtmServer{addr: l.Addr().String(), reply: reply}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				q, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				q = strings.TrimSpace(q)
				s.mu.Lock()
				s.queries = append(s.queries, q)
				s.mu.Unlock()
				c.Write(s.reply(q))
			}()
		}
	}()
	return s
}

func (s *nrtmServer) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
