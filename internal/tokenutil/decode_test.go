package tokenutil

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJoin(t *testing.T) {
	upper := func(toks []string) string { return strings.ToUpper(strings.Join(toks, "")) }
	empty := func([]string) string { return "" }
	standalone := map[string]bool{"<x>": true}
	for _, tc := range []struct {
		name     string
		toks     []string
		toString func([]string) string
		cleanUp  bool
		want     string
	}{
		{"one run", []string{"a", "b"}, upper, false, "AB"},
		{"standalone splits runs", []string{"a", "<x>", "b", "c"}, upper, false, "A <x> BC"},
		{"empty run before standalone dropped", []string{"a", "<x>"}, empty, false, "<x>"},
		{"empty last run kept", []string{"<x>", "a"}, empty, false, "<x> "},
		{"clean-up", []string{"a", " ,", "<x>", " n't"}, func(t []string) string { return strings.Join(t, "") }, true, "a, <x> n't"},
		{"no tokens", nil, upper, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Join(tc.toks, standalone, tc.toString, tc.cleanUp))
		})
	}
}

func TestCleanUp(t *testing.T) {
	// The replacements chain: " ' " becomes "'" before " 's" is looked for.
	assert.Equal(t, "it's. yes! isn't'm", CleanUp("it ' s . yes ! is n't 'm"))
}
