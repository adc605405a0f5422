package encoder

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
)

// The benchmarks of this file are the bi-encoder workloads of
// /work/shared/reference/bench_hf.py (P2, P3) with random weights of the real
// model sizes, so that their figures compare with the Python reference:
//
//	go test ./encoder/ -run '^$' -bench 'P2|P3' -benchtime 3x -count 6
//
// Each reports its throughput and the process's peak resident memory during
// the timed runs (peak-RSS-MiB, Linux only).

// benchText is bench_hf.py's BASE_TEXT.
const benchText = "Python is an interpreted, high-level and general-purpose programming language. Python's design philosophy " +
	"emphasizes code readability with its notable use of significant whitespace. Its language constructs and " +
	"object-oriented approach aim to help programmers write clear, logical code for small and large-scale " +
	"projects. Python is dynamically-typed and garbage-collected. It supports multiple programming paradigms, " +
	"including structured (particularly, procedural), object-oriented and functional programming. Python is " +
	"often described as a batteries included language due to its comprehensive standard library. Java is a " +
	"class-based, object-oriented programming language that is designed to have as few implementation " +
	"dependencies as possible. It is a general-purpose programming language intended to let application " +
	"developers write once, run anywhere, meaning that compiled Java code can run on all platforms that " +
	"support Java without the need for recompilation. "

// paragraphs is bench_hf.py's paragraphs(n, rot): n rotations of four copies
// of benchText, each well over 128 tokens.
func paragraphs(n, rot int) []string {
	words := strings.Fields(strings.Repeat(benchText, 4))
	out := make([]string, n)
	for i := range out {
		k := (i*37 + rot) % 100
		out[i] = strings.Join(append(append([]string{}, words[k:]...), words[:k]...), " ")
	}
	return out
}

// distilBERTBase is distilbert-base-uncased's architecture (DistilBertConfig's defaults).
func distilBERTBase() *Config {
	return &Config{ModelType: "distilbert", VocabSize: 30522, Hidden: 768, Layers: 6, Heads: 12, Intermediate: 3072,
		MaxPositions: 512, LayerNormEps: 1e-12, HiddenDropout: 0.1, AttentionDropout: 0.1, Activation: "gelu",
		PositionEmbedding: "absolute"}
}

// miniLML6 is all-MiniLM-L6-v2's architecture (a 6-layer BERT of width 384).
func miniLML6() *Config {
	return &Config{ModelType: "bert", VocabSize: 30522, Hidden: 384, Layers: 6, Heads: 12, Intermediate: 1536,
		MaxPositions: 512, TypeVocabSize: 2, LayerNormEps: 1e-12, HiddenDropout: 0.1, AttentionDropout: 0.1,
		Activation: "gelu", PositionEmbedding: "absolute"}
}

// randomModel builds a mean-pooling bi-encoder of architecture cfg with
// weights drawn as transformers initializes them (normal(0, 0.02) matrices,
// LayerNorm weights 1, biases 0) from a fixed seed, the fixtures' BERT
// uncased vocabulary and max_seq_length 128.
func randomModel(tb testing.TB, cfg *Config, seed uint64) *Model {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	v := initVars(func(name string, shape []int) []float32 {
		n := 1
		for _, s := range shape {
			n *= s
		}
		data := make([]float32, n)
		switch {
		case strings.HasSuffix(name, "LayerNorm.weight") || strings.HasSuffix(name, "layer_norm.weight"):
			for i := range data {
				data[i] = 1
			}
		case len(shape) == 2:
			for i := range data {
				data[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
		return data
	})
	m := &Model{cfg: cfg, pooling: MeanPooling(cfg.Hidden), maxSeqLen: 128, graphs: map[[2]int]*inferGraph{}}
	var err error
	if cfg.ModelType == "bert" {
		m.body, err = newBert(v, cfg)
	} else {
		m.body, err = newDistilBERT(v, cfg)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if m.tok, err = wordpiece.Load(testutil.Fixture("distilbert-tiny")); err != nil {
		tb.Fatal(err)
	}
	return m
}

// forwardFLOPs counts the multiply-adds (×2) of the matrix products of one
// forward pass of cfg over seqs sequences of t tokens: per layer and token
// the q/k/v/out projections (4·D²) and the feed-forward (2·D·F), and per
// layer and sequence the attention scores and context (2·T²·D). Element-wise
// work (softmax, GELU, LayerNorm) is not counted.
func forwardFLOPs(cfg *Config, seqs, t int) float64 {
	d, f := float64(cfg.Hidden), float64(cfg.Intermediate)
	tok := float64(seqs * t)
	perLayer := 2*tok*(4*d*d+2*d*f) + 2*float64(seqs)*2*float64(t*t)*d
	return float64(cfg.Layers) * perLayer
}

// cpuTime is the user+system CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportWork reports the CPU seconds per run (cpu-s/op: what a run costs
// whatever else shares the machine) and the matrix-product rate, flops per
// run over the wall time (GFLOP/s) and over the CPU time (GFLOP/cpu-s).
func reportWork(b *testing.B, cpu time.Duration, flops float64) {
	n := float64(b.N)
	b.ReportMetric(cpu.Seconds()/n, "cpu-s/op")
	b.ReportMetric(flops*n/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flops*n/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// timeRuns times b.N calls of run, each doing flops floating-point
// operations, with allocations reported and the peak RSS reset first.
func timeRuns(b *testing.B, flops float64, run func()) {
	testutil.ResetPeakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		run()
	}
	b.StopTimer()
	reportWork(b, cpuTime()-cpu0, flops)
}

// BenchmarkP2TrainStep is bench_hf.py's P2: one MNRL training step of
// distilbert-base-uncased (train mode, dropout 0.1) on 16 pre-tokenized
// pairs, queries padded to 16 tokens and passages to 128, through the code
// Fit runs for a step: forward and backward, global-norm clipping at 1 and
// AdamW at lr 2e-5 with weight decay 0.01 under the warm-up schedule of the
// reference (100 of 10,000 steps). Reference: 4.09 pairs/s.
func BenchmarkP2TrainStep(b *testing.B) {
	if testing.Short() {
		b.Skip("a full-size training step; skipped with -short")
	}
	m := randomModel(b, distilBERTBase(), 0)
	qs := paragraphs(16, 0)
	for i, q := range qs {
		qs[i] = q[:200]
	}
	var q, p tokenized
	q.ids, q.types, q.mask, _ = m.tok.EncodeBatch(qs, 16)
	p.ids, p.types, p.mask, _ = m.tok.EncodeBatch(paragraphs(16, 11), 128)
	if len(q.ids[0]) != 16 || len(p.ids[0]) != 128 {
		b.Fatalf("pairs tokenize to %d and %d tokens, want 16 and 128", len(q.ids[0]), len(p.ids[0]))
	}
	opts := DefaultFitOptions()
	opts.BatchSize = 16
	tr, err := m.newTrainer(opts, loss.NewMNRL())
	if err != nil {
		b.Fatal(err)
	}
	step := 0
	run := func() {
		lr := opts.LearningRate * optim.WarmupLinear(step, 100, 10000)
		if _, err := tr.step(step, []tokenized{q, p}, lr); err != nil {
			b.Fatal(err)
		}
		step++
	}
	for range 2 { // bench_hf.py's warm-up steps; the first builds the graph
		run()
	}
	// training: forward, and a backward of twice its products (dx and dw)
	timeRuns(b, 3*(forwardFLOPs(m.cfg, 16, 16)+forwardFLOPs(m.cfg, 16, 128)), run)
	if len(tr.graphs) != 1 {
		b.Errorf("%d training graphs built for one shape", len(tr.graphs))
	}
	b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "pairs/s")
	testutil.ReportPeakRSS(b)
}

// benchEncode times Encode of 256 passages, each over 128 tokens, in batches of 32.
func benchEncode(b *testing.B, cfg *Config) { benchEncodeShape(b, cfg, 32, 128) }

// benchEncodeShape times Encode of 256 passages (each over 128 tokens)
// truncated to maxLen tokens, in batches of batch.
func benchEncodeShape(b *testing.B, cfg *Config, batch, maxLen int) {
	if testing.Short() {
		b.Skip("full-size encoding; skipped with -short")
	}
	m := randomModel(b, cfg, 0)
	m.maxSeqLen = maxLen
	corpus := paragraphs(256, 5)
	ctx := context.Background()
	run := func() {
		embs, err := m.Encode(ctx, corpus, WithBatchSize(batch))
		if err != nil {
			b.Fatal(err)
		}
		if len(embs) != len(corpus) || len(embs[0]) != cfg.Hidden {
			b.Fatalf("%d embeddings of %d, want %d of %d", len(embs), len(embs[0]), len(corpus), cfg.Hidden)
		}
	}
	run()
	graphs := len(m.graphs)
	timeRuns(b, forwardFLOPs(cfg, len(corpus), maxLen), run)
	if len(m.graphs) != graphs {
		b.Errorf("Encode built %d more graphs after the first run", len(m.graphs)-graphs)
	}
	b.ReportMetric(float64(len(corpus)*b.N)/b.Elapsed().Seconds(), "passages/s")
	testutil.ReportPeakRSS(b)
}

// BenchmarkP3Encode is bench_hf.py's P3: Encode of 256 passages truncated to
// 128 tokens, batch 32, tokenization included, distilbert-base-uncased with
// mean pooling. Reference: 21.4 passages/s.
func BenchmarkP3Encode(b *testing.B) { benchEncode(b, distilBERTBase()) }

// BenchmarkP3EncodeMiniLM is the ONNX Runtime anchor of
// /work/shared/reference/baseline.md: the all-MiniLM-L6-v2 architecture,
// 256 passages × 128 tokens, batch 32, mean pooling (ONNX Runtime:
// 102.6–109 passages/s, tokenization excluded; this figure includes it).
func BenchmarkP3EncodeMiniLM(b *testing.B) { benchEncode(b, miniLML6()) }

// BenchmarkP3Scaling is P3 (distilbert-base, 256 passages, tokenization
// included) at batch sizes 8, 32 and 64 and lengths 32, 64 and 128 tokens:
//
//	go test ./encoder/ -run '^$' -bench P3Scaling -benchtime 1x
func BenchmarkP3Scaling(b *testing.B) {
	for _, batch := range []int{8, 32, 64} {
		for _, n := range []int{32, 64, 128} {
			b.Run(fmt.Sprintf("batch=%d/len=%d", batch, n), func(b *testing.B) {
				benchEncodeShape(b, distilBERTBase(), batch, n)
			})
		}
	}
}
