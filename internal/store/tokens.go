package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Token is an API credential. Only the SHA-256 of its secret is stored.
type Token struct {
	ID        string
	Name      string
	Scope     delivery.Scope
	CreatedAt time.Time
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a token and returns its secret, which is shown once and
// never stored.
func (db *DB) CreateToken(ctx context.Context, name string, scope delivery.Scope) (Token, string, error) {
	if name == "" {
		return Token{}, "", delivery.FieldError("name", "is required")
	}
	if !scope.Valid() {
		return Token{}, "", delivery.FieldError("scope", "must be ingest, read or admin, got %q", scope)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	t := Token{ID: hex.EncodeToString(id), Name: name, Scope: scope, CreatedAt: db.Now().UTC().Truncate(time.Microsecond)}
	secret := "stride_" + hex.EncodeToString(raw)
	_, err := db.write.ExecContext(ctx, db.q(`INSERT INTO tokens (id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)`),
		t.ID, t.Name, string(t.Scope), hashSecret(secret), t.CreatedAt.UnixMicro())
	if err != nil {
		return Token{}, "", fmt.Errorf("create token %s: %w", name, err)
	}
	return t, secret, nil
}

// Authenticate returns the token whose secret is given, or an
// EUNAUTHORIZED error.
func (db *DB) Authenticate(ctx context.Context, secret string) (Token, error) {
	var t Token
	var scope string
	var created int64
	err := db.read.QueryRowContext(ctx, db.q(`SELECT id, name, scope, created_at FROM tokens WHERE hash = ?`), hashSecret(secret)).
		Scan(&t.ID, &t.Name, &scope, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, delivery.Errorf(delivery.EUNAUTHORIZED, "invalid token")
	}
	if err != nil {
		return t, fmt.Errorf("authenticate: %w", err)
	}
	t.Scope, t.CreatedAt = delivery.Scope(scope), time.UnixMicro(created).UTC()
	return t, nil
}

// Tokens lists every token, oldest first, without secrets (none is kept),
// so an operator can see which credentials exist before revoking one.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, scope, created_at FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (Token, error) {
		var t Token
		var scope string
		var created int64
		err := s.Scan(&t.ID, &t.Name, &scope, &created)
		t.Scope, t.CreatedAt = delivery.Scope(scope), time.UnixMicro(created).UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken deletes the tokens named name, or the one whose id is name,
// and returns those it deleted; a request made with one fails from then on.
// Names need not be unique, so revoking a name revokes every token of it.
// Nothing matching is an ENOTFOUND error.
func (db *DB) RevokeToken(ctx context.Context, name string) ([]Token, error) {
	if name == "" {
		return nil, delivery.FieldError("name", "is required")
	}
	var gone []Token
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(`SELECT id, name, scope, created_at FROM tokens WHERE name = ? OR id = ? ORDER BY created_at, id`), name, name)
		if err != nil {
			return fmt.Errorf("revoke token %s: %w", name, err)
		}
		gone, err = collect(rows, func(s interface{ Scan(...any) error }) (Token, error) {
			var t Token
			var scope string
			var created int64
			err := s.Scan(&t.ID, &t.Name, &scope, &created)
			t.Scope, t.CreatedAt = delivery.Scope(scope), time.UnixMicro(created).UTC()
			return t, err
		})
		if err != nil {
			return fmt.Errorf("revoke token %s: %w", name, err)
		}
		if len(gone) == 0 {
			return notFound("no token is named %q or has that id (stride token list shows them)", name)
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM tokens WHERE name = ? OR id = ?`), name, name); err != nil {
			return fmt.Errorf("revoke token %s: %w", name, err)
		}
		return nil
	})
	return gone, err
}
