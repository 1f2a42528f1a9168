package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
)

// DigestData is what a Data implements to show a team's weekly digest at
// /teams/{team}/digest: the digest as of now, rendered as the body of its
// e-mail (package digest escapes every value), so the page and the mail
// cannot differ.
type DigestData interface {
	Digest(ctx context.Context, team string) (template.HTML, error)
}

type digestPage struct {
	Team string
	Body template.HTML
}

func (h *Handler) digest(r *http.Request, v *view) error {
	name := r.PathValue("team")
	if _, ok := v.Catalog.team(name); !ok {
		return delivery.Errorf(delivery.ENOTFOUND, "no team %q is configured", name)
	}
	dd, ok := h.data.(DigestData)
	if !ok {
		return delivery.Errorf(delivery.ENOTFOUND, "this server makes no digests")
	}
	body, err := dd.Digest(r.Context(), name)
	if err != nil {
		return fmt.Errorf("digest of team %s: %w", name, err)
	}
	v.Name, v.Title = "digest", "Weekly digest of team "+name
	v.Crumbs = []link{{"Organisation", v.Q("/")}, {"Team " + name, v.Q("/teams/" + pathEscape(name))}}
	v.Content = digestPage{Team: name, Body: body}
	return nil
}
