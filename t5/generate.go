package t5

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/pprof"

	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/sampling"
)

// GenerateOptions controls Generate and GenerateIDs. The fields mirror
// transformers' generate() arguments.
type GenerateOptions struct {
	// MaxInputLength is the most tokens of a passage: Generate truncates
	// each passage to it (</s> kept last), GenerateIDs refuses longer rows.
	// 0 means DefaultMaxInputLength (512), as transformers' tokenizer with
	// truncation=True and no max_length truncates to model_max_length, 512
	// for T5 checkpoints. At most MaxSequenceLength.
	MaxInputLength int
	// MaxLength is the longest output, counting the decoder start token as
	// generate(max_length=...) does. Memory grows with the tokens actually
	// generated (the key/value cache doubles as needed), not with MaxLength.
	MaxLength int
	// MaxNewTokens, when positive, overrides MaxLength as generate's
	// max_new_tokens does: at most this many tokens follow the start token.
	MaxNewTokens int
	// MinNewTokens suppresses </s> (its logit becomes -Inf) until this many
	// tokens follow the start token, as generate's min_new_tokens
	// (MinNewTokensLengthLogitsProcessor). 0 disables it.
	MinNewTokens int
	// NumReturnSequences is the number of outputs per passage.
	NumReturnSequences int
	// DoSample draws tokens from the warped distribution; otherwise decoding
	// is greedy (NumBeams 1) or beam search (NumBeams > 1).
	DoSample bool
	// TopP, TopK and Temperature configure the sampling warpers, applied in
	// transformers' order temperature → top-k → top-p (see sampling.Config):
	// TopK 0 disables top-k; TopP 1 disables top-p, TopP 0 keeps only the
	// most likely token, as top_p=0 does in transformers. Temperature 1
	// leaves the scores as they are; with DoSample, Temperature must be > 0:
	// 0 is refused as transformers refuses temperature=0 (it is not greedy
	// decoding; for that, leave DoSample false).
	TopP        float32
	TopK        int
	Temperature float32
	// NumBeams > 1 selects beam search (length_penalty LengthPenalty,
	// early_stopping false, as transformers' BeamSearchScorer).
	NumBeams      int
	LengthPenalty float64
	// Seed seeds sampling. Each (passage, sequence) pair gets its own stream
	// derived from Seed, so results do not depend on BatchSize.
	Seed uint64
	// FirstIndex is the index of passages[0] in the caller's whole corpus:
	// passage i is sampled with the stream of passage FirstIndex+i. A caller
	// that generates a corpus in pieces (to save each piece, or to resume an
	// interrupted run) passes each piece's offset and gets exactly the
	// queries one call over the whole corpus would give.
	FirstIndex int
	// BatchSize is the number of passages decoded together.
	BatchSize int
}

// DefaultGenerateOptions returns the GenQ recipe of BeIR's query generator:
// generate(max_length=64, do_sample=True, top_p=0.95, num_return_sequences=5)
// with transformers' default top_k=50, inputs truncated to 300 tokens.
func DefaultGenerateOptions() GenerateOptions {
	return GenerateOptions{
		MaxInputLength:     300,
		MaxLength:          64,
		NumReturnSequences: 5,
		DoSample:           true,
		TopP:               0.95,
		TopK:               50,
		Temperature:        1.0,
		NumBeams:           1,
		LengthPenalty:      1.0,
		Seed:               42,
		BatchSize:          8,
	}
}

func (o GenerateOptions) validate() error {
	switch {
	case o.MaxNewTokens < 0:
		return fmt.Errorf("t5: MaxNewTokens is %d; use 0 to take MaxLength instead", o.MaxNewTokens)
	case o.MinNewTokens < 0:
		return fmt.Errorf("t5: MinNewTokens is %d; use 0 to let </s> come at any step", o.MinNewTokens)
	case o.MaxNewTokens == 0 && o.MaxLength < 1:
		return fmt.Errorf("t5: MaxLength is %d; it counts the start token and must be at least 1", o.MaxLength)
	case o.NumReturnSequences < 1:
		return fmt.Errorf("t5: NumReturnSequences is %d; it must be at least 1", o.NumReturnSequences)
	case o.NumBeams < 0:
		return fmt.Errorf("t5: NumBeams is %d; use 1 (or 0) for greedy decoding or sampling", o.NumBeams)
	case o.BatchSize < 0:
		return fmt.Errorf("t5: BatchSize is %d; it must be positive (0 means 8)", o.BatchSize)
	case o.FirstIndex < 0:
		return fmt.Errorf("t5: FirstIndex is %d; it is the corpus index of the first passage and cannot be negative", o.FirstIndex)
	case o.MaxInputLength < 0:
		return fmt.Errorf("t5: MaxInputLength is %d; use 0 for T5's 512 tokens", o.MaxInputLength)
	case o.MaxInputLength > MaxSequenceLength:
		return fmt.Errorf("t5: MaxInputLength is %d, more than the %d tokens (MaxSequenceLength) a T5 pass accepts", o.MaxInputLength, MaxSequenceLength)
	}
	if o.NumBeams > 1 {
		if o.DoSample {
			return fmt.Errorf("t5: beam sampling (DoSample with NumBeams %d) is not supported; set NumBeams to 1 or DoSample to false", o.NumBeams)
		}
		if o.NumReturnSequences > o.NumBeams {
			return fmt.Errorf("t5: NumReturnSequences (%d) cannot exceed NumBeams (%d)", o.NumReturnSequences, o.NumBeams)
		}
		return nil
	}
	if !o.DoSample && o.NumReturnSequences > 1 {
		return fmt.Errorf("t5: greedy decoding returns one sequence per passage, not %d; set DoSample or NumBeams", o.NumReturnSequences)
	}
	if o.DoSample {
		if o.Temperature == 0 {
			return fmt.Errorf("t5: Temperature is 0 with DoSample; like transformers (temperature must be strictly positive) genq refuses it: temperature 0 is not greedy decoding — set DoSample false for that, or Temperature 1 to sample from the unchanged distribution")
		}
		if err := o.warper().Validate(); err != nil {
			return fmt.Errorf("t5: %w", err)
		}
	}
	return nil
}

// DefaultMaxInputLength is what MaxInputLength 0 stands for: the
// model_max_length of T5 tokenizers, to which transformers' tokenizer
// truncates with truncation=True and no max_length.
const DefaultMaxInputLength = 512

// maxInputLength is MaxInputLength, or DefaultMaxInputLength for 0.
func (o GenerateOptions) maxInputLength() int {
	if o.MaxInputLength == 0 {
		return DefaultMaxInputLength
	}
	return o.MaxInputLength
}

// maxLength is the longest output counting the start token: MaxLength, or
// 1 + MaxNewTokens when that is set (saturating: math.MaxInt means no limit).
func (o GenerateOptions) maxLength() int {
	if o.MaxNewTokens > 0 {
		return 1 + min(o.MaxNewTokens, math.MaxInt-1)
	}
	return o.MaxLength
}

// suppressEOS reports whether </s> is still forbidden at a step that adds
// new token number generated+1.
func (o GenerateOptions) suppressEOS(generated int) bool { return generated < o.MinNewTokens }

func (o GenerateOptions) warper() sampling.Config {
	return sampling.Config{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, MinTokensToKeep: 1}
}

// Sequence is one generated output.
type Sequence struct {
	// IDs starts with the decoder start token and ends with </s> unless
	// MaxLength cut the sequence short (no padding follows).
	IDs []int
	// LogProbs[i] is the log-probability of IDs[i+1]: log_softmax of the raw
	// logits at the chosen token (compute_transition_scores with
	// normalize_logits=True).
	LogProbs []float32
	// Score is the beam-search score (sum of log-probabilities over
	// generated length^LengthPenalty, sequences_scores); for greedy decoding
	// and sampling the sum of LogProbs.
	Score float64
}

// ErrNonFiniteLogits is wrapped by the error of Generate and GenerateIDs
// when the decoder's logits for a row hold NaN or +Inf, or no finite value
// at all, in any decoding mode: no token can be chosen (transformers' sampling
// fails there too). It means the weights hold NaN or Inf values, or the
// model overflows on that input.
var ErrNonFiniteLogits = errors.New("the decoder's logits are not finite")

// Generate writes NumReturnSequences queries for each passage, in passage
// order: the tokenized passage (truncated to MaxInputLength) is encoded once
// and the decoder samples, decodes greedily or runs beam search. It uses
// the tokenizer that was set when it started (see SetTokenizer).
func (m *Model) Generate(ctx context.Context, passages []string, opts GenerateOptions) ([][]string, error) {
	tok := m.Tokenizer()
	if tok == nil {
		return nil, errNoTokenizer
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ids := make([][]int, len(passages))
	for i, p := range passages {
		var err error
		if ids[i], err = tok.Encode(p, opts.maxInputLength()); err != nil {
			return nil, fmt.Errorf("t5: tokenizing passage %d: %w", i, err)
		}
	}
	seqs, err := m.GenerateIDs(ctx, ids, opts)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(passages))
	for i := range out {
		for j := 0; j < opts.NumReturnSequences; j++ {
			q, err := tok.Decode(seqs[i*opts.NumReturnSequences+j].IDs, true)
			if err != nil {
				return nil, fmt.Errorf("t5: decoding query %d of passage %d: %w", j, i, err)
			}
			out[i] = append(out[i], q)
		}
	}
	return out, nil
}

// GenerateIDs is Generate on token ids (each row ending with </s>, as the
// tokenizer makes them; a row longer than MaxInputLength is an error, not
// truncated). It returns NumReturnSequences sequences per input,
// input-major.
func (m *Model) GenerateIDs(ctx context.Context, inputIDs [][]int, opts GenerateOptions) ([]Sequence, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.FirstIndex > math.MaxInt-len(inputIDs) {
		return nil, fmt.Errorf("t5: FirstIndex %d plus %d inputs overflows the passage index", opts.FirstIndex, len(inputIDs))
	}
	for i, r := range inputIDs {
		if len(r) > opts.maxInputLength() {
			return nil, fmt.Errorf("t5: input %d has %d ids, more than MaxInputLength (%d); truncate it, keeping </s> last, as Generate does, or raise MaxInputLength",
				i, len(r), opts.maxInputLength())
		}
	}
	if err := m.checkIDs(inputIDs, "input id", false); err != nil {
		return nil, err
	}
	bs := opts.BatchSize
	if bs == 0 {
		bs = 8
	}
	rep := opts.NumReturnSequences
	if opts.NumBeams > 1 {
		rep = opts.NumBeams
	}
	if _, err := m.stepRows(min(bs, len(inputIDs)), rep); err != nil {
		return nil, err
	}
	var out []Sequence
	for start := 0; start < len(inputIDs); start += bs {
		end := min(start+bs, len(inputIDs))
		seqs, err := m.generateChunk(ctx, inputIDs[start:end], opts.FirstIndex+start, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, seqs...)
	}
	return out, nil
}

// generateChunk decodes the passages ids, the first of which has index first
// among all passages (for the sampling streams).
func (m *Model) generateChunk(ctx context.Context, ids [][]int, first int, opts GenerateOptions) ([]Sequence, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := padBatch(ids, nil, m.cfg.PadTokenID, 0)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The profiler labels (t5=encode, t5=decode) let pprof -tagfocus split
	// the two phases, including the GEMM goroutines they start.
	var enc map[string][]float32
	pprof.Do(ctx, pprof.Labels("t5", "encode"), func(context.Context) {
		enc, err = m.runEncoder(b, m.encoderOutputs()...)
	})
	if err != nil {
		return nil, err
	}
	var seqs []Sequence
	pprof.Do(ctx, pprof.Labels("t5", "decode"), func(ctx context.Context) {
		seqs, err = m.decodeChunk(ctx, b, enc, first, opts)
	})
	return seqs, err
}

// decodeChunk decodes the encoded passages b (the first has index first
// among all passages) by beam search, sampling or greedily.
func (m *Model) decodeChunk(ctx context.Context, b *batch, enc map[string][]float32, first int, opts GenerateOptions) ([]Sequence, error) {
	L := max(opts.maxLength()-1, 1)
	if opts.NumBeams > 1 {
		st, err := m.newStepper(b, enc, opts.NumBeams, L)
		if err != nil {
			return nil, err
		}
		return m.beamSearch(ctx, st, b.n, first, opts)
	}
	r := opts.NumReturnSequences
	st, err := m.newStepper(b, enc, r, L)
	if err != nil {
		return nil, err
	}
	var pick func(row int, logits []float32) (int, error)
	if opts.DoSample {
		warp := opts.warper()
		samplers := make([]*rowSampler, st.n)
		for row := range samplers {
			samplers[row] = newRowSampler(warp, sampling.NewSampler(streamSeed(opts.Seed, first+row/r, row%r)))
		}
		pick = func(row int, logits []float32) (int, error) {
			return samplers[row].sample(logits), nil
		}
	} else {
		pick = func(_ int, logits []float32) (int, error) { return argmax(logits), nil }
	}
	return m.decode(ctx, st, first, opts, pick)
}

// decode runs greedy decoding or sampling: each step every unfinished row
// appends pick's token; finished rows are fed <pad>, as transformers does,
// until every row has emitted </s> or the maximum length is reached. While
// MinNewTokens are not reached, </s>'s logit is -Inf for pick and the
// log-probabilities alike, as transformers' logits processor makes it.
// pick is called for several rows at once, never twice for one row, and
// only on logits that are finite (finiteLogits); a negative token means
// that it found none to choose.
func (m *Model) decode(ctx context.Context, st *stepper, first int, opts GenerateOptions, pick func(row int, logits []float32) (int, error)) ([]Sequence, error) {
	maxLength := opts.maxLength()
	v := m.cfg.VocabSize
	seqs := make([]Sequence, st.n)
	done := make([]bool, st.n)
	last := make([]int, st.n)
	toks, lps, errs := make([]int, st.n), make([]float32, st.n), make([]error, st.n)
	for r := range seqs {
		seqs[r].IDs = []int{m.cfg.DecoderStartTokenID}
		last[r] = m.cfg.DecoderStartTokenID
	}
	for cur := 1; cur < maxLength; cur++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		logits, err := st.step(last)
		if err != nil {
			return nil, err
		}
		kernel.ParallelFor(st.n, kernel.RowGrain(v), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				if done[r] {
					continue
				}
				row := logits[r*v : (r+1)*v]
				if opts.suppressEOS(cur - 1) {
					row[m.cfg.EOSTokenID] = float32(math.Inf(-1))
				}
				if !finiteLogits(row) {
					errs[r] = nonFiniteError(first+r/st.rep, cur)
					continue
				}
				toks[r], errs[r] = pick(r, row)
				if errs[r] == nil && toks[r] < 0 {
					errs[r] = nonFiniteError(first+r/st.rep, cur)
				}
				if errs[r] == nil {
					lps[r] = logSoftmaxAt(row, toks[r])
				}
			}
		})
		active := 0
		for r := range seqs {
			if done[r] {
				last[r] = m.cfg.PadTokenID
				continue
			}
			if errs[r] != nil {
				return nil, errs[r]
			}
			tok, lp := toks[r], lps[r]
			seqs[r].IDs = append(seqs[r].IDs, tok)
			seqs[r].LogProbs = append(seqs[r].LogProbs, lp)
			seqs[r].Score += float64(lp)
			last[r] = tok
			if tok == m.cfg.EOSTokenID {
				done[r] = true
			} else {
				active++
			}
		}
		if active == 0 {
			break
		}
	}
	return seqs, nil
}

// finiteLogits reports whether a token can be chosen from row: no NaN, no
// +Inf and at least one value above -Inf (-Inf is a removed token).
func finiteLogits(row []float32) bool {
	some := false
	for _, v := range row {
		if v != v || v > math.MaxFloat32 {
			return false
		}
		some = some || v >= -math.MaxFloat32
	}
	return some
}

// nonFiniteError is the error for logits of passage that are not
// finiteLogits at output position pos (1 is the first after the start token).
func nonFiniteError(passage, pos int) error {
	return fmt.Errorf("t5: passage %d, output position %d: %w (NaN or +Inf, or every value -Inf): the model's weights hold NaN or Inf, or overflow on this input",
		passage, pos, ErrNonFiniteLogits)
}

// argmax returns the index of the first largest value, as torch.argmax.
func argmax(x []float32) int {
	bi := 0
	for i, v := range x {
		if v > x[bi] {
			bi = i
		}
	}
	return bi
}

// streamSeed derives the seed of the sampling stream of (passage, sequence)
// from the user's seed with SplitMix64 mixing.
func streamSeed(seed uint64, passage, seq int) uint64 {
	x := seed
	for _, v := range []uint64{uint64(passage), uint64(seq)} {
		x = splitmix64(x ^ splitmix64(v+0x632be59bd9b4e019))
	}
	return x
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
