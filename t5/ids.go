package t5

import (
	"fmt"

	"github.com/genq-go/genq/internal/ids"
)

// checkIDs checks token ids before they reach a graph, so that an id outside
// the vocabulary is reported in these words (naming the argument, the row
// and the position) rather than from inside the graph's embedding lookup.
// what names the argument ("input id", "decoder id", "label"); labels may also
// be IgnoreIndex.
func (m *Model) checkIDs(rows [][]int, what string, labels bool) error {
	var allow func(int) bool
	note := ""
	if labels {
		allow = func(id int) bool { return id == IgnoreIndex }
		note = fmt.Sprintf(" (a label may also be IgnoreIndex %d)", IgnoreIndex)
	}
	if err := ids.Check(rows, m.cfg.VocabSize, what, allow); err != nil {
		return fmt.Errorf("t5: %w%s: the ids must come from the model's tokenizer (vocab_size %d in config.json)", err, note, m.cfg.VocabSize)
	}
	return nil
}
