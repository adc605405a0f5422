//go:build unix

package t5

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// p1Options is the P1 race workload of bench_hf.py: generate(do_sample=True,
// top_p=0.95, num_return_sequences=3, min_new_tokens=max_new_tokens=32)
// with the default top_k 50.
func p1Options() GenerateOptions {
	opts := DefaultGenerateOptions()
	opts.NumReturnSequences = 3
	opts.MinNewTokens, opts.MaxNewTokens = 32, 32
	opts.BatchSize = 8
	opts.Seed = 1
	return opts
}

// memWatch samples the live heap while a benchmark runs and reports its peak
// and the process's peak resident set (VmHWM).
type memWatch struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func watchMemory() *memWatch {
	w := &memWatch{stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			w.peak = max(w.peak, s[0].Value.Uint64())
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *memWatch) report(b *testing.B) {
	close(w.stop)
	w.done.Wait()
	b.ReportMetric(float64(w.peak)/(1<<20), "peak-heap-MiB")
	testutil.ReportPeakRSS(b)
}

// cpuSeconds returns the process's user plus system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchGenerate times GenerateIDs on passages × length random ids and
// reports generated queries per second.
func benchGenerate(b *testing.B, m *Model, passages, length int, opts GenerateOptions) {
	ids := randomIDs(passages, length, m.cfg.VocabSize, 7)
	want := opts.maxLength()
	// Warm-up: compile the graphs outside the timed loop.
	_, err := m.GenerateIDs(context.Background(), ids, opts)
	require.NoError(b, err)
	mem := watchMemory()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seqs, err := m.GenerateIDs(context.Background(), ids, opts)
		require.NoError(b, err)
		if opts.MinNewTokens == opts.MaxNewTokens {
			for _, s := range seqs {
				require.Len(b, s.IDs, want, "ids of a sequence with MinNewTokens = MaxNewTokens")
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*passages*opts.NumReturnSequences)/b.Elapsed().Seconds(), "queries/s")
	// CPU seconds per batch do not depend on how busy the shared machine is:
	// on two idle cores a batch takes about half of them.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	mem.report(b)
}

// p1Model returns the random t5-base of the P1 benchmarks; it skips them
// with -short.
func p1Model(b *testing.B) *Model {
	if testing.Short() {
		b.Skip("t5-base benchmark skipped with -short")
	}
	return t5Base(b)
}

// p1Batch returns p1Model and P1's encoder batch (8 passages × 256 random
// tokens), holding the model's lock until the benchmark ends.
func p1Batch(b *testing.B) (*Model, *batch) {
	m := p1Model(b)
	bt, err := padBatch(randomIDs(8, 256, m.cfg.VocabSize, 7), nil, m.cfg.PadTokenID, 0)
	require.NoError(b, err)
	m.mu.Lock()
	b.Cleanup(m.mu.Unlock)
	return m, bt
}

// BenchmarkP1Generate is the P1 race: a random t5-base v1.0 (222.9M
// parameters), 8 passages × 256 tokens, 3 samples each with top-k 50 and
// top-p 0.95, exactly 32 new tokens. The Python reference (torch 1.13,
// 2 threads) does 1.55 queries/s on the project's machine.
func BenchmarkP1Generate(b *testing.B) {
	benchGenerate(b, p1Model(b), 8, 256, p1Options())
}

// BenchmarkP1Encode times P1's encoder pass alone (8 × 256 tokens; the
// decoder's cross-attention keys and values are the step's, see
// BenchmarkP1Step's newStepper).
func BenchmarkP1Encode(b *testing.B) {
	m, bt := p1Batch(b)
	// The first pass compiles the graph.
	_, err := m.runEncoder(bt, m.encoderOutputs()...)
	require.NoError(b, err)
	mem := watchMemory()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := m.runEncoder(bt, m.encoderOutputs()...)
		require.NoError(b, err)
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	mem.report(b)
}

// BenchmarkP1Step times one decoder step of P1: 24 rows (8 passages × 3
// samples) against a 256-token encoder output with a 32-slot cache.
func BenchmarkP1Step(b *testing.B) {
	m, bt := p1Batch(b)
	enc, err := m.runEncoder(bt, m.encoderOutputs()...)
	require.NoError(b, err)
	const rep, slots = 3, 32
	st, err := m.newStepper(bt, enc, rep, slots)
	require.NoError(b, err)
	ids := make([]int, 8*rep)
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st.pos == slots {
			st.pos = 0 // rewind: every position costs the same with a fixed-size cache
		}
		_, err := st.step(ids)
		require.NoError(b, err)
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
}

// BenchmarkP1Scaling runs P1's decoding for 1, 4 and 8 passages of 64, 128
// and 256 tokens.
func BenchmarkP1Scaling(b *testing.B) {
	m := p1Model(b)
	for _, n := range []int{1, 4, 8} {
		for _, length := range []int{64, 128, 256} {
			b.Run(fmt.Sprintf("passages=%d/len=%d", n, length), func(b *testing.B) {
				benchGenerate(b, m, n, length, p1Options())
			})
		}
	}
}

// BenchmarkGenerateSmall is a quick stand-in for P1 while iterating: a
// 4-layer d_model 256 model with the full 32128-token vocabulary, 4 passages
// × 64 tokens, 3 samples each, exactly 16 new tokens.
func BenchmarkGenerateSmall(b *testing.B) {
	cfg := DefaultConfig()
	cfg.DModel, cfg.DKV, cfg.DFF, cfg.NumHeads = 256, 32, 1024, 8
	cfg.NumLayers, cfg.NumDecoderLayers = 4, 4
	m := randomModel(b, cfg, 3)
	opts := p1Options()
	opts.MinNewTokens, opts.MaxNewTokens = 16, 16
	benchGenerate(b, m, 4, 64, opts)
}
