package ingest

import "net/http"

// GateSource is a Source whose deliveries are a gate's verdict on a commit,
// such as SonarQube's quality gate, rather than facts of delivery. Intake
// verifies and judges such a delivery like any other (Translate checks it
// and returns no events), then keeps its GateReport as a gate result of
// the commit, beside those `stride gate` posts, in the transaction that
// stores the raw delivery; a redelivery records nothing twice.
type GateSource interface {
	Source
	// Gate reads the gate result of a delivery Translate accepted.
	Gate(h http.Header, body []byte) (GateReport, error)
}

// GateReport is one gate result as a source reports it. Criteria is the
// JSON list of the criteria judged, in the form `stride gate` posts them
// (internal/gate's Criterion), so both read alike wherever results show.
type GateReport struct {
	Service  string
	SHA      string
	Name     string // the gate's name, such as "sonarqube"
	Passed   bool
	Criteria []byte
}
