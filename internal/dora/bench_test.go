package dora

import (
	"strconv"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// benchInput is a year of 10,000 deployments across 20 services, 20 changes
// each (200,000 shipments, grouped by deployment as the store returns them),
// every 20th deployment failed and every 50th linked to an incident.
func benchInput() Input {
	const deployments, perDeployment, services = 10_000, 20, 20
	in := Input{Period: delivery.Period{From: t0, To: t0.Add(365 * day)}}
	in.Deployments = make([]delivery.Deployment, 0, deployments)
	in.Shipments = make([]Shipment, 0, deployments*perDeployment)
	step := 365 * day / deployments
	for i := range deployments {
		svc := "svc-" + strconv.Itoa(i%services)
		id := strconv.Itoa(i)
		finished := t0.Add(time.Duration(i) * step)
		status := delivery.DeploymentSuccess
		if i%20 == 7 {
			status = delivery.DeploymentFailure
		}
		d := delivery.Deployment{Service: svc, Environment: "production", ID: id, Status: status,
			FinishedAt: finished, SHA: id, Hotfix: i%33 == 0}
		in.Deployments = append(in.Deployments, d)
		k := d.Key()
		for c := range perDeployment {
			in.Shipments = append(in.Shipments, Shipment{Deployment: k, Repository: svc, SHA: id + "-" + strconv.Itoa(c),
				CommitTime: finished.Add(-time.Duration((c*7919+i*104729)%(30*24*3600)) * time.Second)})
		}
		if i%50 == 3 {
			in.Incidents = append(in.Incidents, IncidentLink{
				Incident:   delivery.Incident{Service: svc, ID: "inc-" + id, OpenedAt: finished.Add(hour), ResolvedAt: finished.Add(3 * hour)},
				Deployment: &k, Inferred: i%100 == 3,
			})
		}
	}
	return in
}

func BenchmarkCompute(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		Compute(in)
	}
}

// BenchmarkComputeSummaries is BenchmarkCompute with the changes not
// linked to an incident given as per-deployment summaries, as the store's
// report path reads them.
func BenchmarkComputeSummaries(b *testing.B) {
	in := summarised(benchInput())
	b.ReportAllocs()
	for b.Loop() {
		Compute(in)
	}
}
