// Package gate reads the reports a CI pipeline produces (coverage, test
// results, static analysis, vulnerability scans, load tests), evaluates them
// against a service's release criteria and renders the outcome. Every reader
// treats a missing, empty or corrupt report as an error: a gate that cannot
// read its evidence must not pass.
//
// Readers of formats that grow large (SARIF, JMeter JTL) stream their input,
// so memory stays bounded by the size of one record, not of the file.
package gate
