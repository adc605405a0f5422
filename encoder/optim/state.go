package optim

import (
	"fmt"
	"sort"
)

// State is a snapshot of AdamW's per-parameter state, enough to resume
// training bit for bit: with the same parameter values and gradients, an
// optimizer restored with LoadState takes exactly the steps the original
// would have. The learning rate is not part of it: the schedule recomputes
// it from the global step.
type State struct {
	// Params maps a parameter name to its state. Parameters that never had
	// a gradient have no entry.
	Params map[string]ParamState
}

// ParamState is one parameter's AdamW state (torch's state[p]).
type ParamState struct {
	Step     int64     // number of updates applied to the parameter
	ExpAvg   []float32 // first moment m
	ExpAvgSq []float32 // second moment v
}

// Names returns the parameter names in s, sorted.
func (s State) Names() []string {
	names := make([]string, 0, len(s.Params))
	for n := range s.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// State returns a deep copy of the optimizer's state.
func (o *AdamW) State() State {
	s := State{Params: make(map[string]ParamState, len(o.state))}
	for name, m := range o.state {
		s.Params[name] = ParamState{
			Step:     m.step,
			ExpAvg:   append([]float32(nil), m.expAvg...),
			ExpAvgSq: append([]float32(nil), m.expAvgSq...),
		}
	}
	return s
}

// LoadState replaces the optimizer's state with a deep copy of s. Every entry
// must name a parameter of the optimizer, with moments of the parameter's
// length and a positive step; parameters without an entry start fresh. On
// error the optimizer is unchanged.
func (o *AdamW) LoadState(s State) error {
	sizes := map[string]int{}
	for _, g := range o.groups {
		for _, p := range g.Params {
			sizes[p.Name] = len(p.Data)
		}
	}
	next := make(map[string]*moments, len(s.Params))
	for _, name := range s.Names() {
		ps := s.Params[name]
		n, ok := sizes[name]
		switch {
		case !ok:
			return fmt.Errorf("optim: saved state has parameter %q, which this optimizer does not hold (a different model or parameter naming?)", name)
		case len(ps.ExpAvg) != n || len(ps.ExpAvgSq) != n:
			return fmt.Errorf("optim: saved state of %q has moments of length %d and %d; the parameter has %d values", name, len(ps.ExpAvg), len(ps.ExpAvgSq), n)
		case ps.Step < 1:
			return fmt.Errorf("optim: saved state of %q has step %d; want ≥ 1 (parameters never stepped have no entry)", name, ps.Step)
		}
		next[name] = &moments{
			step:     ps.Step,
			expAvg:   append([]float32(nil), ps.ExpAvg...),
			expAvgSq: append([]float32(nil), ps.ExpAvgSq...),
		}
	}
	o.state = next
	return nil
}
