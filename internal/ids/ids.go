// Package ids checks token ids before they reach a model's graph, so that
// an id a graph cannot look up is reported in genq's words, counted, with
// the first few named by row and position.
package ids

import (
	"fmt"
	"strings"
)

// shown is how many bad ids an error names.
const shown = 3

// Check returns nil when every id of rows is in [0, n) or accepted by allow
// (nil: none); else an error "<count> <what>(s) outside [0, n): <id> (row r,
// position p), ..." naming the first three.
func Check(rows [][]int, n int, what string, allow func(int) bool) error {
	bad := 0
	var first []string
	for i, r := range rows {
		for j, id := range r {
			if (id >= 0 && id < n) || (allow != nil && allow(id)) {
				continue
			}
			if bad++; len(first) < shown {
				first = append(first, fmt.Sprintf("%d (row %d, position %d)", id, i, j))
			}
		}
	}
	if bad == 0 {
		return nil
	}
	more := ""
	if bad > len(first) {
		more = fmt.Sprintf(", and %d more", bad-len(first))
	}
	return fmt.Errorf("%d %s(s) outside [0, %d): %s%s", bad, what, n, strings.Join(first, ", "), more)
}
