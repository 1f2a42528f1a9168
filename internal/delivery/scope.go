package delivery

// Scope is what an API token may do. Admin includes read and ingest; read
// and ingest are apart so a CI job that sends events cannot read the org's
// numbers.
type Scope string

// The token scopes.
const (
	ScopeIngest Scope = "ingest"
	ScopeRead   Scope = "read"
	ScopeAdmin  Scope = "admin"
)

// Valid reports whether s is one of the token scopes.
func (s Scope) Valid() bool {
	return s == ScopeIngest || s == ScopeRead || s == ScopeAdmin
}

// Allows reports whether a token of scope s may do what want needs.
func (s Scope) Allows(want Scope) bool {
	return s == ScopeAdmin || s == want
}
