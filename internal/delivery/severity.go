package delivery

// SeverityOrDefault is the severity an incident counts with: the one a
// report gave, or SeverityDefault when none did. The store keeps what was
// reported (SeverityUnknown included), so merging can still prefer any
// reported severity to the default; readers that judge by severity call
// this.
func (in Incident) SeverityOrDefault() int {
	if in.Severity == SeverityUnknown {
		return SeverityDefault
	}
	return in.Severity
}
