package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

//go:embed templates/*.html static/*
var files embed.FS

// Cookie names. The session cookie holds the read token itself, checked
// through Options.Authenticate on every request, so revoking a token ends
// every session that used it; it is HttpOnly and SameSite=Strict, so no
// script and no other site can read or send it.
const (
	sessionCookie = "stride_session"
	csrfCookie    = "stride_csrf"
)

// Options configure the pages.
type Options struct {
	// Authenticate checks a read token and returns the name to greet its
	// holder with; any error refuses it. The caller wires it to the token
	// store and decides which scopes may read.
	Authenticate func(ctx context.Context, token string) (name string, err error)
	// Dev serves every page without a login, as serve --dev does the API.
	Dev bool
	// Secret keys the CSRF tokens; a random one is made when empty, which
	// only means forms opened before a restart must be reloaded.
	Secret []byte
	// BaseURL is how users reach Stride (https://stride.example.com), for
	// the webhook URLs the empty states show; empty takes the request's.
	BaseURL string
	// SecureCookies marks the cookies Secure on every request, for a server
	// behind a proxy that terminates TLS; without it they are Secure only
	// when the request itself came over TLS.
	SecureCookies bool
	// Now is the clock for the default period (the last four weeks).
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler serves the dashboard. Mount it at the root of the server's mux:
// its routes are /, /teams/{team}, /teams/{team}/digest, /services/{service}, /explain, /login,
// /logout and /static/.
type Handler struct {
	data  Data
	opts  Options
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the dashboard's handler over data.
func New(data Data, opts Options) (*Handler, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if len(opts.Secret) == 0 {
		opts.Secret = make([]byte, 32)
		if _, err := rand.Read(opts.Secret); err != nil {
			return nil, fmt.Errorf("web: make csrf secret: %w", err)
		}
	}
	if !opts.Dev && opts.Authenticate == nil {
		return nil, errors.New("web: Options.Authenticate is required unless Dev is set")
	}
	h := &Handler{data: data, opts: opts, pages: map[string]*template.Template{}}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	for _, name := range []string{"org", "team", "service", "explain", "digest", "login", "error"} {
		t, err := template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s page: %w", name, err)
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.logout)
	mux.Handle("GET /{$}", h.page(h.org))
	mux.Handle("GET /teams/{team}", h.page(h.team))
	mux.Handle("GET /teams/{team}/digest", h.page(h.digest))
	mux.Handle("GET /services/{service}", h.page(h.service))
	mux.Handle("GET /explain", h.page(h.explain))
	h.mux = mux
	return h, nil
}

// ServeHTTP serves the pages with headers that keep them out of frames and
// let them load nothing but their own stylesheet and script.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	h.mux.ServeHTTP(w, r)
}

// view is what every page template receives: the page's own content and
// the frame around it.
type view struct {
	Title   string
	Name    string // template name of the page
	User    string
	Dev     bool
	CSRF    string
	Period  periodView
	Catalog Catalog
	// Crumbs lead back from the page to the organisation.
	Crumbs  []link
	Content any
	// query is the page's query string, which table CSV links extend.
	query url.Values
	path  string
	// tables are every table on the page, by ID, for ?format=csv.
	tables map[string]Table
}

type link struct{ Text, Href string }

// T wraps a table for the table template, with its CSV link, and
// registers it for the CSV download.
func (v *view) T(t Table) tableView {
	q := url.Values{}
	for k, vs := range v.query {
		q[k] = vs
	}
	q.Set("format", "csv")
	q.Set("table", t.ID)
	return tableView{Table: t, CSV: v.path + "?" + q.Encode()}
}

type tableView struct {
	Table
	CSV string
}

// C wraps a chart for the chart template, its table with its CSV link.
func (v *view) C(c Chart) chartView { return chartView{SVG: c.SVG, Table: v.T(c.Table)} }

type chartView struct {
	SVG   template.HTML
	Table tableView
}

// Path is the page's path, the period form's target.
func (v *view) Path() string { return v.path }

type hidden struct{ Name, Value string }

// Hidden are the query parameters the period form keeps (sort, figure,
// service, team), so changing the period changes nothing else.
func (v *view) Hidden() []hidden {
	var out []hidden
	for _, k := range []string{"figure", "service", "team", "sort", "order"} {
		if val := v.query.Get(k); val != "" {
			out = append(out, hidden{k, val})
		}
	}
	return out
}

// Presets are links to common periods ending today.
func (v *view) Presets() []link {
	end := v.Period.now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	var out []link
	for _, p := range []struct {
		text string
		days int
	}{{"last 4 weeks", 28}, {"last 12 weeks", 84}, {"last year", 365}} {
		q := url.Values{}
		for _, h := range v.Hidden() {
			q.Set(h.Name, h.Value)
		}
		q.Set("from", end.AddDate(0, 0, -p.days).Format(time.DateOnly))
		q.Set("to", end.Format(time.DateOnly))
		out = append(out, link{p.text, v.path + "?" + q.Encode()})
	}
	return out
}

// register records the tables of a page for the CSV download. Builders
// call it for every table they put on the page.
func (v *view) register(ts ...Table) {
	for _, t := range ts {
		v.tables[t.ID] = t
	}
}

// Q is a link to path within the page's period, with extra key/value
// pairs, so navigating keeps the period the user chose.
func (v *view) Q(path string, kv ...string) string {
	q := url.Values{}
	if v.Period.explicit {
		q.Set("from", v.Period.From)
		q.Set("to", v.Period.To)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// builder fills a page's view; it returns an error to show instead.
type builder func(r *http.Request, v *view) error

// page wraps a builder with the login check, the period, the CSV download
// and error pages.
func (h *Handler) page(b builder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := h.user(r)
		if !ok {
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		v := &view{User: user, Dev: h.opts.Dev, CSRF: h.csrf(w, r), query: r.URL.Query(), path: r.URL.Path, tables: map[string]Table{}}
		delete(v.query, "format")
		delete(v.query, "table")
		p, err := parsePeriod(r.URL.Query(), h.opts.Now())
		if err != nil {
			h.fail(w, r, v, err)
			return
		}
		v.Period = p
		if v.Catalog, err = h.data.Catalog(r.Context()); err != nil {
			h.fail(w, r, v, err)
			return
		}
		if err := b(r, v); err != nil {
			h.fail(w, r, v, err)
			return
		}
		if r.URL.Query().Get("format") == "csv" {
			h.csv(w, r, v)
			return
		}
		h.render(w, r, http.StatusOK, v)
	})
}

func (h *Handler) csv(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.URL.Query().Get("table")
	t, ok := v.tables[id]
	if !ok {
		h.fail(w, r, v, delivery.FieldError("table", "no table %q on this page", id))
		return
	}
	var b bytes.Buffer
	if err := t.WriteCSV(&b); err != nil {
		h.fail(w, r, v, err)
		return
	}
	name := strings.Trim(strings.ReplaceAll(r.URL.Path, "/", "-"), "-")
	if name == "" {
		name = "organisation"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, safeName(name), safeName(id)))
	w.Write(b.Bytes())
}

// safeName keeps letters, digits, '-' and '_' of s for a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, v *view) {
	t := h.pages[v.Name]
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		h.opts.Logger.Error("render page", "page", v.Name, "path", r.URL.Path, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// errorPage is the content of the error template.
type errorPage struct {
	Status  int
	Message string
}

// fail shows err as a page, with the status its code maps to.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status := http.StatusInternalServerError
	msg := "something went wrong reading the data; the server log has the details"
	var de *delivery.Error
	if errors.As(err, &de) {
		msg = de.Error()
		switch de.Code {
		case delivery.EINVALID:
			status = http.StatusBadRequest
		case delivery.ENOTFOUND:
			status = http.StatusNotFound
		case delivery.EUNAUTHORIZED:
			status = http.StatusUnauthorized
		case delivery.EFORBIDDEN:
			status = http.StatusForbidden
		}
	}
	if status == http.StatusInternalServerError {
		h.opts.Logger.Error("dashboard page", "path", r.URL.Path, "err", err)
	}
	v.Name, v.Title, v.Content = "error", http.StatusText(status), errorPage{Status: status, Message: msg}
	h.render(w, r, status, v)
}

// user returns the signed-in user's name from the session cookie.
func (h *Handler) user(r *http.Request) (string, bool) {
	if h.opts.Dev {
		return "", true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	name, err := h.opts.Authenticate(r.Context(), c.Value)
	if err != nil {
		return "", false
	}
	return name, true
}

// csrf returns the form token of the request's CSRF cookie, setting a new
// cookie when there is none. The token is an HMAC of the cookie's random
// nonce (a signed double-submit): a forged form from another site can
// neither read the cookie nor compute the token.
func (h *Handler) csrf(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		nonce = c.Value
	} else {
		b := make([]byte, 16)
		rand.Read(b) // never fails (crypto/rand)
		nonce = hex.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: nonce, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: h.secure(r)})
	}
	return h.csrfToken(nonce)
}

func (h *Handler) csrfToken(nonce string) string {
	m := hmac.New(sha256.New, h.opts.Secret)
	m.Write([]byte("stride-csrf:" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a posted form's token against the request's cookie.
func (h *Handler) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(h.csrfToken(c.Value)))
}

// loginPage is the content of the login template.
type loginPage struct {
	Next    string
	Refused bool
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	v := &view{Name: "login", Title: "Sign in", Dev: h.opts.Dev, CSRF: h.csrf(w, r),
		Content: loginPage{Next: localPath(r.URL.Query().Get("next"))}}
	h.render(w, r, http.StatusOK, v)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !h.checkCSRF(r) {
		http.Error(w, "the form expired or did not come from this site: reload the sign-in page and try again", http.StatusForbidden)
		return
	}
	next := localPath(r.PostFormValue("next"))
	if h.opts.Dev {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		h.refuse(w, r, next)
		return
	}
	if _, err := h.opts.Authenticate(r.Context(), token); err != nil {
		h.refuse(w, r, next)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: h.secure(r), MaxAge: 12 * 3600})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, next string) {
	v := &view{Name: "login", Title: "Sign in", CSRF: h.csrf(w, r), Content: loginPage{Next: next, Refused: true}}
	h.render(w, r, http.StatusUnauthorized, v)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !h.checkCSRF(r) {
		http.Error(w, "the form expired or did not come from this site: reload the page and try again", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: h.secure(r), MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath keeps a redirect target on this site: a path, not "//host"
// or a URL, else "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}

func (h *Handler) secure(r *http.Request) bool { return h.opts.SecureCookies || r.TLS != nil }

// baseURL is the external URL of Stride for the webhook URLs shown.
func (h *Handler) baseURL(r *http.Request) string {
	if h.opts.BaseURL != "" {
		return strings.TrimRight(h.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
