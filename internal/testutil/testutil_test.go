package testutil

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records failures instead of failing, so that
// the helpers' own failures can be checked.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()                   {}
func (r *recorder) Name() string              { return "recorder" }
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Errorf(string, ...any)     { r.failed = true }
func (r *recorder) FailNow()                  { r.failed = true; panic(r) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); r.FailNow() }

// fails reports whether check failed the recorder it was given.
func fails(check func(t testing.TB)) (failed bool) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failed = r.failed
	}()
	check(r)
	return r.failed
}

func TestHelpersFail(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	payload := func(p uint32) float32 { return math.Float32frombits(0x7fc00000 | p) }
	for _, tc := range []struct {
		name  string
		check func(t testing.TB)
		fail  bool
	}{
		{"AllClose within atol", func(t testing.TB) { AllClose(t, "x", []float32{1, 2.05}, []float32{1, 2}, 0.1, 0) }, false},
		{"AllClose within rtol", func(t testing.TB) { AllClose(t, "x", []float32{105}, []float32{100}, 0, 0.05) }, false},
		{"AllClose outside", func(t testing.TB) { AllClose(t, "x", []float32{1, 2.2}, []float32{1, 2}, 0.1, 0) }, true},
		{"AllClose length", func(t testing.TB) { AllClose(t, "x", []float32{1}, []float32{1, 2}, 1, 1) }, true},
		{"AllClose NaN", func(t testing.TB) { AllClose(t, "x", []float32{nan}, []float32{0}, 1, 1) }, true},
		{"AllClose same Inf", func(t testing.TB) { AllClose(t, "x", []float32{inf}, []float32{inf}, 0, 0) }, false},
		{"AllClose other Inf", func(t testing.TB) { AllClose(t, "x", []float32{-inf}, []float32{inf}, 1, 1) }, true},
		{"AllClose float64 within", func(t testing.TB) { AllClose(t, "x", []float64{1 + 1e-13}, []float64{1}, 1e-12, 0) }, false},
		{"AllClose float64 outside", func(t testing.TB) { AllClose(t, "x", []float64{1 + 1e-11}, []float64{1}, 1e-12, 1e-12) }, true},
		{"RelClose within", func(t testing.TB) { RelClose(t, "x", []float32{1000.5}, []float64{1000}, 1e-3) }, false},
		{"RelClose outside", func(t testing.TB) { RelClose(t, "x", []float32{0.5}, []float64{0}, 0.1) }, true},
		{"RelClose NaN", func(t testing.TB) { RelClose(t, "x", []float32{1, nan, 1}, []float64{1, 1, 1}, 1) }, true},
		{"RelClose length", func(t testing.TB) { RelClose(t, "x", nil, []float64{1}, 1) }, true},
		{"RelClose empty", func(t testing.TB) { RelClose(t, "x", nil, nil, 0) }, false},
		{"EqualElems equal", func(t testing.TB) { EqualElems(t, "x", []int64{1, 2}, []int64{1, 2}) }, false},
		{"EqualElems differ", func(t testing.TB) { EqualElems(t, "x", []int64{1, 3}, []int64{1, 2}) }, true},
		{"EqualElems length", func(t testing.TB) { EqualElems(t, "x", []int64{1}, []int64{1, 2}) }, true},
		{"EqualElems NaN", func(t testing.TB) { EqualElems(t, "x", []float32{nan}, []float32{nan}) }, true},
		{"Identical NaN payload", func(t testing.TB) { Identical(t, "x", []float32{payload(1)}, []float32{payload(1)}) }, false},
		{"Identical other NaN payload", func(t testing.TB) { Identical(t, "x", []float32{payload(1)}, []float32{payload(2)}) }, true},
		{"Identical signed zero", func(t testing.TB) { Identical(t, "x", []float32{negZero}, []float32{0}) }, true},
		{"Identical length", func(t testing.TB) { Identical(t, "x", nil, []float32{0}) }, true},
		{"Identical equal", func(t testing.TB) { Identical(t, "x", []float32{1, inf}, []float32{1, inf}) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.fail, fails(tc.check))
		})
	}
}

var allocSink []byte

func TestAllocated(t *testing.T) {
	n := Allocated(func() { allocSink = make([]byte, 1<<20) })
	assert.GreaterOrEqual(t, n, uint64(1<<20), "a 1 MiB slice")
}
