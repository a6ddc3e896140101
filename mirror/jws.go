package mirror

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrSignature is wrapped by every JWS verification failure: a malformed JWS, an
// algorithm that does not fit the configured key, or a signature that does not verify.
// A notification that fails this way is refused and the mirror is left unchanged.
var ErrSignature = errors.New("NRTMv4 signature check failed")

// MaxNotificationBytes caps an Update Notification File (RIPE's lists a day of deltas
// in about 200 KB).
const MaxNotificationBytes = 64 << 20

// ParsePublicKey reads an NRTMv4 signing key: a PEM "PUBLIC KEY" block
// (SubjectPublicKeyInfo, ECDSA P-256 for ES256 as RIPE publishes it, or Ed25519), the
// same DER in base64, or a raw 32-byte Ed25519 key in base64.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	data = bytes.TrimSpace(data)
	var der []byte
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("mirror: public key: PEM block %q, want PUBLIC KEY", block.Type)
		}
		der = block.Bytes
	} else {
		b, err := decodeBase64(string(data))
		if err != nil {
			return nil, fmt.Errorf("mirror: public key: neither PEM nor base64: %w", err)
		}
		if len(b) == ed25519.PublicKeySize {
			return ed25519.PublicKey(b), nil
		}
		der = b
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("mirror: public key: %w", err)
	}
	switch k := k.(type) {
	case ed25519.PublicKey:
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("mirror: public key: ECDSA curve %s, want P-256", k.Curve.Params().Name)
		}
		return k, nil
	}
	return nil, fmt.Errorf("mirror: public key: unsupported key type %T", k)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

// jwsHeader is the protected header of a JWS; fields we do not implement are refused.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
	B64  *bool           `json:"b64"`
}

// VerifyJWS checks a JWS in compact serialization (RFC 7515 §7.1) against the keys
// in order and returns the payload of the first key that verifies it. Supported
// algorithms: ES256 with a P-256 key (RFC 7518 §3.4) and EdDSA (also written
// "Ed25519") with an Ed25519 key (RFC 8037). An algorithm that does not fit a key
// never verifies with it.
func VerifyJWS(compact []byte, keys ...crypto.PublicKey) (payload []byte, err error) {
	compact = bytes.TrimSpace(compact)
	if len(compact) > MaxNotificationBytes {
		return nil, fmt.Errorf("%w: JWS of %d bytes exceeds %d", ErrSignature, len(compact), MaxNotificationBytes)
	}
	parts := strings.Split(string(compact), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: JWS compact serialization has %d parts, want 3", ErrSignature, len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrSignature, err)
	}
	var h jwsHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrSignature, err)
	}
	if len(h.Crit) > 0 || (h.B64 != nil && !*h.B64) {
		return nil, fmt.Errorf("%w: unsupported critical header parameters", ErrSignature)
	}
	payload, err = base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrSignature, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrSignature, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no public key configured", ErrSignature)
	}
	input := []byte(parts[0] + "." + parts[1])
	var last error
	for _, k := range keys {
		if last = verifySig(h.Alg, k, input, sig); last == nil {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrSignature, last)
}

func verifySig(alg string, key crypto.PublicKey, input, sig []byte) error {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if alg != "ES256" {
			return fmt.Errorf("algorithm %q does not fit a P-256 key (want ES256)", alg)
		}
		return verifyES256(k, input, sig)
	case ed25519.PublicKey:
		if alg != "EdDSA" && alg != "Ed25519" {
			return fmt.Errorf("algorithm %q does not fit an Ed25519 key (want EdDSA)", alg)
		}
		if len(k) != ed25519.PublicKeySize || !ed25519.Verify(k, input, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", key)
}

// verifyES256 checks a JWS ES256 signature: R and S as two 32-byte big-endian
// integers (RFC 7518 §3.4), not ASN.1.
func verifyES256(k *ecdsa.PublicKey, input, sig []byte) error {
	if len(sig) != 64 {
		return fmt.Errorf("ES256 signature of %d bytes, want 64", len(sig))
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	sum := sha256.Sum256(input)
	if !ecdsa.Verify(k, sum[:], r, s) {
		return errors.New("ES256 signature does not verify")
	}
	return nil
}
