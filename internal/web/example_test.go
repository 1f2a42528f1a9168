package web_test

import (
	"context"
	"errors"
	"log"
	"net/http"

	"github.com/stride-oss/stride/internal/web"
)

// The server mounts the dashboard at the root of its mux, beside the API:
// the more specific /api/ and /webhooks/ patterns keep their routes. Data
// is implemented over the read path; Authenticate checks a read token.
func ExampleNew() {
	var data web.Data // e.g. an adapter over report.Reader and the config
	pages, err := web.New(data, web.Options{
		Authenticate: func(ctx context.Context, token string) (string, error) {
			return "", errors.New("wire this to the token store, allowing the read scope")
		},
		BaseURL: "https://stride.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", pages)
	_ = mux
}
