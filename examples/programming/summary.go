package main

import (
	"fmt"
	"strings"
	"time"
)

// stepReport is what one step did, for the line printed after it and the
// summary at the end of all.
type stepReport struct {
	name    string
	elapsed time.Duration
	facts   []string // "12 passages", "24 queries → output/generated_queries.tsv"
}

// note records a fact about the step that is running.
func (a *app) note(format string, args ...any) {
	a.facts = append(a.facts, fmt.Sprintf(format, args...))
}

// timed runs one step, prints a one-line report after it and keeps the
// report for the summary.
func (a *app) timed(name string, run func() error) error {
	a.facts = nil
	start := time.Now()
	err := run()
	r := stepReport{name: name, elapsed: time.Since(start).Round(time.Millisecond), facts: a.facts}
	a.facts = nil
	if err != nil {
		return err
	}
	a.reports = append(a.reports, r)
	fmt.Fprintf(a.stderr, "-- %s done in %v: %s\n", r.name, r.elapsed, strings.Join(r.facts, "; "))
	return nil
}

// summarize prints the reports of all's steps, then the eval table.
func (a *app) summarize() {
	w := a.stderr
	var total time.Duration
	fmt.Fprintf(w, "\n== summary\n")
	for _, r := range a.reports {
		total += r.elapsed
		fmt.Fprintf(w, "%-9s %10v  %s\n", r.name, r.elapsed, strings.Join(r.facts, "; "))
	}
	fmt.Fprintf(w, "%-9s %10v\n", "total", total)
	if a.table != "" {
		fmt.Fprintf(w, "\n%s", a.table)
	}
}
