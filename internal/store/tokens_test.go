package store_test

import (
	"context"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func TestRevokedTokensNoLongerAuthenticate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ci, ciSecret, err := db.CreateToken(ctx, "ci", delivery.Scope("ingest"))
		if err != nil {
			t.Fatal(err)
		}
		_, dashSecret, err := db.CreateToken(ctx, "dash", delivery.Scope("read"))
		if err != nil {
			t.Fatal(err)
		}
		toks, err := db.Tokens(ctx)
		if err != nil || len(toks) != 2 || toks[0].Name != "ci" || toks[1].Name != "dash" {
			t.Fatalf("tokens %+v, %v; want ci then dash", toks, err)
		}
		// Revoked by id: ci's secret fails from then on; dash's still works.
		gone, err := db.RevokeToken(ctx, ci.ID)
		if err != nil || len(gone) != 1 || gone[0].Name != "ci" {
			t.Fatalf("revoke %s: %+v, %v", ci.ID, gone, err)
		}
		if _, err := db.Authenticate(ctx, ciSecret); delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
			t.Errorf("a revoked token authenticated: %v", err)
		}
		if _, err := db.Authenticate(ctx, dashSecret); err != nil {
			t.Errorf("the other token stopped working: %v", err)
		}
		if _, err := db.RevokeToken(ctx, "ci"); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("revoking a gone token: %v; want not found", err)
		}
	})
}
