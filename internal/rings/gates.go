package rings

// LatestGates keeps the latest run of each gate, by name, from runs in the
// order they were received, which is what a promotion judges: a gate re-run
// after a fix replaces its failed run. Latest means last received, so two
// runs within one clock tick still have an order. Gates keep the order of
// their first run.
func LatestGates(runs []GateRun) []GateRun {
	index := map[string]int{}
	var latest []GateRun
	for _, g := range runs {
		if i, ok := index[g.Name]; ok {
			latest[i] = g
			continue
		}
		index[g.Name] = len(latest)
		latest = append(latest, g)
	}
	return latest
}
