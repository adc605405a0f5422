package ids

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rows  [][]int
		allow func(int) bool
		want  string // "" for no error
	}{
		{"valid", [][]int{{0, 9}, {}}, nil, ""},
		{"one", [][]int{{0, 10}}, nil, "1 id(s) outside [0, 10): 10 (row 0, position 1)"},
		{"negative", [][]int{{1}, {2, -1}}, nil, "1 id(s) outside [0, 10): -1 (row 1, position 1)"},
		{"allowed", [][]int{{-100, 3}}, func(id int) bool { return id == -100 }, ""},
		{"many", [][]int{{10, 11, 12, 13, 14}}, nil,
			"5 id(s) outside [0, 10): 10 (row 0, position 0), 11 (row 0, position 1), 12 (row 0, position 2), and 2 more"},
	} {
		err := Check(tc.rows, 10, "id", tc.allow)
		if tc.want == "" {
			assert.NoError(t, err, tc.name)
		} else {
			assert.EqualError(t, err, tc.want, tc.name)
		}
	}
}
