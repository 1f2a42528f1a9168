package intake

import (
	"context"
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/store"
)

// gateDelivery stores an accepted delivery of a gate source (SonarQube)
// raw, with the gate result it reports, in one transaction. The verdict
// counts the result as the one thing added, or as a duplicate when the
// same delivery came before. Reprocessing judges such deliveries again but
// records no result twice: a gate result is a verdict of its time, not
// derived data.
func (in *Intake) gateDelivery(ctx context.Context, src ingest.GateSource, raw store.RawDelivery, h http.Header, body []byte, v Verdict) (Verdict, error) {
	g, err := src.Gate(h, body)
	if err != nil {
		// Translate accepted the same body; a source that disagrees with
		// itself is a fault of the source, reported as malformed.
		return Verdict{Outcome: Malformed, Reason: delivery.ErrorMessage(err), Err: delivery.Errorf(delivery.EINVALID, "%s", delivery.ErrorMessage(err))}, nil
	}
	verdict := "fail"
	if g.Passed {
		verdict = "pass"
	}
	_, added, err := in.db.IngestGateDelivery(ctx, raw, store.GateRecord{Service: g.Service, SHA: g.SHA, Name: g.Name,
		Verdict: verdict, Criteria: g.Criteria})
	if err != nil {
		return Verdict{}, err
	}
	if added {
		v.Added = 1
	} else {
		v.Duplicates = 1
	}
	return v, nil
}
