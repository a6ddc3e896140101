package mirror

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"slices"
	"testing"
)

// TestReadDump loads testdata/doc.db: objects of the source with their identities,
// the other source's object and the malformed route (no origin) skipped.
func TestReadDump(t *testing.T) {
	var got []string
	n, skipped, err := readRPSLFile("testdata/doc.db", "TEST", func(o *Object) { got = append(got, o.Class+" "+o.Key) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"route 192.0.2.0/24AS64496", "route6 2001:DB8::/32AS64497", "as-set AS-DOC", "person DOC1-TEST"}
	if !slices.Equal(got, want) || n != 4 || skipped != 2 {
		t.Errorf("got %v (%d, %d skipped), want %v (4, 2 skipped)", got, n, skipped, want)
	}
}

func TestParseObject(t *testing.T) {
	tests := []struct {
		name, text, class, key, source string
		wantErr                        bool
	}{
		{"route", "route: 192.0.2.0/24\norigin: AS64496\nsource: test # c\n", "route", "192.0.2.0/24AS64496", "TEST", false},
		{"route6 canonical", "route6: 2001:DB8:0::/32\norigin: as64496\nsource: TEST\n", "route6", "2001:DB8::/32AS64496", "TEST", false},
		{"role by nic-hdl", "role: Doc Role\nnic-hdl: dr1-test\nsource: TEST\n", "role", "DR1-TEST", "TEST", false},
		{"inetnum spaces", "inetnum: 192.0.2.0  -   192.0.2.255\nsource: TEST\n", "inetnum", "192.0.2.0 - 192.0.2.255", "TEST", false},
		{"no source", "as-set: AS-DOC\n", "", "", "", true},
		{"continuation first", " AS64496\nsource: TEST\n", "", "", "", true},
		{"blank inside", "as-set: AS-DOC\n\nsource: TEST\n", "", "", "", true},
		{"not an attribute", "as-set AS-DOC\nsource: TEST\n", "", "", "", true},
		{"empty key", "as-set:\nsource: TEST\n", "", "", "", true},
		{"person without nic-hdl", "person: Doc\nsource: TEST\n", "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseObject(tc.text)
			if tc.wantErr {
				if !errors.Is(err, ErrObject) {
					t.Fatalf("err = %v, want ErrObject", err)
				}
				return
			}
			if err != nil || o.Class != tc.class || o.Key != tc.key || o.Source != tc.source {
				t.Fatalf("got %+v, %v", o, err)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	pemOf := func(k any) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	ripe, err := os.ReadFile("../../shared/data/nrtm/ripe-whois-nrtm4/public.key")
	if err != nil {
		ripe = pemOf(&p256.PublicKey)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"P-256 PEM (the published RIPE mock key)", ripe, false},
		{"Ed25519 PEM", pemOf(edPub), false},
		{"Ed25519 raw base64", []byte(base64.StdEncoding.EncodeToString(edPub) + "\n"), false},
		{"P-384 refused", pemOf(&p384.PublicKey), true},
		{"RSA refused", pemOf(&rsaKey.PublicKey), true},
		{"private key block refused", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), true},
		{"garbage", []byte("not a key"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePublicKey(tc.in)
			if (err != nil) != tc.wantErr || (err == nil && k == nil) {
				t.Fatalf("got %T, %v", k, err)
			}
		})
	}
}
