package sloeval

// SeriesRuns reports how many series the evaluator's runs took over from
// the run before and how many they prepared again.
func (e *Evaluator) SeriesRuns() (reused, rebuilt int) { return e.cache.reused, e.cache.rebuilt }
