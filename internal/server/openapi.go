package server

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 document of the JSON API, kept by hand beside
// the handlers; openapi_test.go checks that it names every route the
// server registers, no route it does not, and that its examples fit their
// schemas.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document the server serves at
// GET /api/openapi.json.
func OpenAPI() []byte { return openAPI }

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
