package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// VerifyToken checks a shared token for sources that cannot sign their
// deliveries. It reads the token from the first of headers that carries one;
// the name "Authorization" means a bearer token ("Authorization: Bearer
// <token>"), any other name the header's whole value. It returns nil when the
// token equals want, and otherwise an error saying what is wrong, which the
// connector returns through Unauthorized with its name in front.
//
// An empty want rejects everything: a token compared with "" proves nothing.
// Both sides are hashed before the constant-time comparison, so the time
// taken tells neither the content nor the length of the expected token.
func VerifyToken(h http.Header, want string, headers ...string) error {
	if want == "" {
		return errors.New("no token is configured")
	}
	got, ok := "", false
	for _, name := range headers {
		if got, ok = headerToken(h, name); ok {
			break
		}
	}
	if !ok {
		return fmt.Errorf("no token in %s", describe(headers))
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return errors.New("the token does not match")
	}
	return nil
}

func headerToken(h http.Header, name string) (string, bool) {
	v := strings.TrimSpace(h.Get(name))
	if !strings.EqualFold(name, "Authorization") {
		return v, v != ""
	}
	scheme, tok, found := strings.Cut(v, " ")
	tok = strings.TrimSpace(tok)
	if found && strings.EqualFold(scheme, "Bearer") && tok != "" {
		return tok, true
	}
	return "", false
}

// describe names the headers for an error: "Authorization (bearer) or
// X-Stride-Token".
func describe(headers []string) string {
	names := make([]string, len(headers))
	for i, n := range headers {
		names[i] = n
		if strings.EqualFold(n, "Authorization") {
			names[i] = n + " (bearer)"
		}
	}
	if len(names) == 0 {
		return "no header"
	}
	return strings.Join(names, " or ")
}
