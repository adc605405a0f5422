// Package testutil helps tests compare genq's numbers with the golden fixtures
// produced by the Python reference (testdata/fixtures, see its README.md).
package testutil

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
)

// Root returns the repository root (the folder that holds go.mod): $GENQ_ROOT
// when set, else the root this file was compiled in, else the nearest folder
// above the working directory that holds go.mod and testdata (a test binary
// built on one machine and run from a checkout on another, as .ci/gpu does).
func Root() string {
	if r := os.Getenv("GENQ_ROOT"); r != "" {
		return r
	}
	isRoot := func(dir string) bool {
		_, errMod := os.Stat(filepath.Join(dir, "go.mod"))
		_, errData := os.Stat(filepath.Join(dir, "testdata"))
		return errMod == nil && errData == nil
	}
	_, file, _, _ := runtime.Caller(0)
	compiled := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if isRoot(compiled) {
		return compiled
	}
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			if isRoot(d) {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return compiled
}

// Fixture returns the path of a fixture folder or file, e.g. Fixture("t5-tiny")
// or Fixture("t5-tiny", "golden.json").
func Fixture(parts ...string) string {
	return filepath.Join(append([]string{Root(), "testdata", "fixtures"}, parts...)...)
}

// Golden holds one fixture folder's golden.safetensors tensors and golden.json.
type Golden struct {
	Tensors map[string]*checkpoint.Tensor
	JSON    map[string]any
	dir     string
}

// LoadGolden reads testdata/fixtures/<name>/golden.{safetensors,json}.
func LoadGolden(t testing.TB, name string) *Golden {
	t.Helper()
	dir := Fixture(name)
	ts, err := checkpoint.ReadSafetensors(filepath.Join(dir, "golden.safetensors"))
	require.NoError(t, err, "reading golden tensors of %s", name)
	g := &Golden{Tensors: ts, dir: dir}
	require.NoError(t, ReadJSON(filepath.Join(dir, "golden.json"), &g.JSON), "reading golden.json of %s", name)
	return g
}

// T returns the golden tensor with the given name or fails the test.
func (g *Golden) T(t testing.TB, name string) *checkpoint.Tensor {
	t.Helper()
	x, ok := g.Tensors[name]
	require.True(t, ok, "golden tensor %q missing in %s", name, g.dir)
	return x
}

// Decode unmarshals golden.json[key] into v (any JSON-compatible type).
func (g *Golden) Decode(t testing.TB, key string, v any) {
	t.Helper()
	raw, ok := g.JSON[key]
	require.True(t, ok, "golden.json of %s has no key %q", g.dir, key)
	b, err := json.Marshal(raw)
	require.NoError(t, err, "golden.json[%q]", key)
	require.NoError(t, json.Unmarshal(b, v), "golden.json[%q]", key)
}

// ReadJSON decodes a JSON file into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Diff describes how far got is from want.
type Diff struct {
	MaxAbs   float64 // max |got - want|
	MaxRel   float64 // max |got - want| / |want| over elements with |want| > 0
	FirstBad int     // first index failing the tolerance, -1 if none
	Count    int     // number of elements failing the tolerance
}

// Compare measures got against want with the tolerance |got-want| <= atol + rtol*|want|.
// Non-finite values must match exactly (same infinity, or both NaN).
func Compare(got, want []float32, atol, rtol float64) Diff {
	d := Diff{FirstBad: -1}
	for i := range want {
		var g float64
		if i < len(got) {
			g = float64(got[i])
		} else {
			g = math.NaN()
		}
		w := float64(want[i])
		var bad bool
		if math.IsInf(w, 0) || math.IsNaN(w) || math.IsInf(g, 0) || math.IsNaN(g) {
			bad = !(g == w || (math.IsNaN(g) && math.IsNaN(w)))
		} else {
			a := math.Abs(g - w)
			if a > d.MaxAbs {
				d.MaxAbs = a
			}
			if w != 0 && a/math.Abs(w) > d.MaxRel {
				d.MaxRel = a / math.Abs(w)
			}
			bad = a > atol+rtol*math.Abs(w)
		}
		if bad {
			if d.FirstBad < 0 {
				d.FirstBad = i
			}
			d.Count++
		}
	}
	return d
}

// AllClose fails the test when got and want differ by more than atol + rtol*|want|
// anywhere or have different lengths, and logs max |Δ| either way.
func AllClose(t testing.TB, name string, got, want []float32, atol, rtol float64) Diff {
	t.Helper()
	if !assert.Equal(t, len(want), len(got), "%s: number of values", name) {
		return Diff{FirstBad: 0}
	}
	d := Compare(got, want, atol, rtol)
	if d.Count > 0 {
		i := d.FirstBad
		assert.Fail(t, fmt.Sprintf("%s: %d of %d values outside atol=%g rtol=%g; max |Δ|=%.3g; first at index %d: got %v want %v",
			name, d.Count, len(want), atol, rtol, d.MaxAbs, i, got[i], want[i]))
	} else {
		t.Logf("%s: max |Δ| = %.3g (atol=%g rtol=%g, %d values)", name, d.MaxAbs, atol, rtol, len(want))
	}
	return d
}

// RelClose fails the test when a float32 result strays from its float64
// reference by more than tol relative to max(1, |want|) anywhere (a NaN
// always fails), and logs the largest such error and where it is.
func RelClose(t testing.TB, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), "%s: number of values", name)
	if len(want) == 0 {
		return
	}
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(float64(got[i])-want[i]) / math.Max(1, math.Abs(want[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	t.Logf("%s: max |got-want|/max(1,|want|) = %.3g at %d (tolerance %g)", name, worst, at, tol)
	assert.True(t, worst <= tol, "%s: value %d is %v, want %v", name, at, got[at], want[at])
}

// EqualElems fails the test unless got and want have the same length and
// equal elements, and names the first element that differs (assert.Equal
// would print both slices whole, which for a tensor is too much to read).
func EqualElems[T comparable](t testing.TB, name string, got, want []T) bool {
	t.Helper()
	if !assert.Equal(t, len(want), len(got), "%s: number of values", name) {
		return false
	}
	for i := range want {
		if got[i] != want[i] {
			return assert.Equal(t, want[i], got[i], "%s[%d]", name, i)
		}
	}
	return true
}

// Identical fails the test unless got and want have the same length and
// bit-identical values (signed zeros and NaN payloads included, which == on
// floats does not tell apart), and names the first element that differs.
func Identical(t testing.TB, name string, got, want []float32) bool {
	t.Helper()
	if !assert.Equal(t, len(want), len(got), "%s: number of values", name) {
		return false
	}
	for i := range want {
		if g, w := math.Float32bits(got[i]), math.Float32bits(want[i]); g != w {
			return assert.Equal(t, w, g, "%s[%d]: got %g, want %g: not bit-identical", name, i, got[i], want[i])
		}
	}
	return true
}

// Ints converts a golden integer tensor to []int.
func Ints(x *checkpoint.Tensor) []int {
	out := make([]int, len(x.I64))
	for i, v := range x.I64 {
		out[i] = int(v)
	}
	return out
}

// NumericGrad returns the central finite-difference gradient of f with
// respect to x, (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for each i, perturbing x in
// place (and restoring it): f must read x.
func NumericGrad(x []float64, h float64, f func() float64) []float64 {
	g := make([]float64, len(x))
	for i, keep := range x {
		x[i] = keep + h
		up := f()
		x[i] = keep - h
		down := f()
		x[i] = keep
		g[i] = (up - down) / (2 * h)
	}
	return g
}
