package sampling

import (
	"fmt"
	"math"
	"strconv"
)

// Config selects the logits warpers of generate(do_sample=True), with
// Hugging Face's meaning for every value. Mind TopP: 1 turns top-p off (as
// HF's default top_p=1.0 does), while 0, the zero value, keeps only the most
// likely token, as top_p=0 does in HF. GenerateDefaults returns HF's
// defaults; Config{TopP: 1} leaves the scores untouched.
type Config struct {
	// Temperature divides the scores; values below 1 sharpen the
	// distribution. 1 disables it (generate() adds no TemperatureLogitsWarper
	// for 1).
	//
	// Mind Temperature 0: it means unset, as temperature=None does in a
	// GenerationConfig (no warper, the scores unchanged, the same as 1). It
	// is NOT greedy decoding, and transformers raises ValueError for
	// temperature=0.0 (TemperatureLogitsWarper wants a strictly positive
	// float); t5.GenerateOptions refuses it when sampling. For greedy
	// decoding use Argmax instead of sampling.
	Temperature float32
	// TopK keeps the tokens whose score is >= the TopK-th largest score. 0
	// disables it. Note that Hugging Face's GenerationConfig defaults to 50.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability mass
	// reaches TopP (nucleus sampling), and at least MinTokensToKeep. 1
	// disables it; 0 keeps only the MinTokensToKeep most likely tokens, as
	// HF's TopPLogitsWarper does for top_p=0.
	TopP float32
	// MinTokensToKeep is the least number of tokens top-k and top-p leave
	// (generate() passes 1, or 2 for beam sampling). 0 means 1.
	MinTokensToKeep int
}

// GenerateDefaults returns the warpers a default Hugging Face
// GenerationConfig implies for do_sample=True: temperature 1 (off), top_k 50,
// top_p 1 (off). Set TopP to 0.95 to get what GenQ's
// generate(do_sample=True, top_p=0.95) uses.
func GenerateDefaults() Config {
	return Config{Temperature: 1, TopK: 50, TopP: 1, MinTokensToKeep: 1}
}

// Validate reports a setting that Hugging Face's warpers would refuse or that
// has no meaning: a negative or non-finite temperature, a negative top-k, a
// top-p outside [0, 1] (HF's TopPLogitsWarper refuses those) and a negative
// MinTokensToKeep. It accepts Temperature 0, which means unset (see
// Config.Temperature), not greedy.
func (c Config) Validate() error {
	t := float64(c.Temperature)
	if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
		return fmt.Errorf("sampling: Temperature is %v; it must be a finite number > 0 (1 leaves the scores unchanged)", c.Temperature)
	}
	if c.TopK < 0 {
		return fmt.Errorf("sampling: TopK is %d; it must be > 0 (use 0 to disable top-k)", c.TopK)
	}
	p := float64(c.TopP)
	if math.IsNaN(p) || p < 0 || p > 1 {
		return fmt.Errorf("sampling: TopP is %v; it must lie in [0, 1] (1 disables top-p, 0 keeps only the most likely token)", c.TopP)
	}
	if c.MinTokensToKeep < 0 {
		return fmt.Errorf("sampling: MinTokensToKeep is %d; it must be >= 1 (0 means 1)", c.MinTokensToKeep)
	}
	return nil
}

// Warp applies, in place, the warpers the config enables in Hugging Face's
// order: temperature, then top-k, then top-p. Removed tokens get -Inf. A
// setting that Validate rejects disables its warper.
func (c Config) Warp(scores []float32) {
	if c.temperatureOn() {
		Temperature(scores, c.Temperature)
	}
	if c.TopK > 0 {
		TopK(scores, c.TopK, c.minKeep())
	}
	if c.topPOn() {
		TopP(scores, c.TopP, c.minKeep())
	}
}

func (c Config) temperatureOn() bool {
	t := float64(c.Temperature)
	return t > 0 && t != 1 && !math.IsInf(t, 0)
}

// topPOn reports whether top-p applies: HF adds TopPLogitsWarper for
// top_p < 1, and top_p = 0 is valid (it keeps the most likely tokens).
func (c Config) topPOn() bool { return c.TopP >= 0 && c.TopP < 1 }

func (c Config) minKeep() int {
	if c.MinTokensToKeep < 1 {
		return 1
	}
	return c.MinTokensToKeep
}

// decimal returns the float64 a user meant by a float32 hyper-parameter: the
// shortest decimal that round-trips to x, read as a float64. Python passes
// top_p=0.95 as the double 0.95, while float64(float32(0.95)) is
// 0.949999988..., which moves 1-top_p by three float32 ulps.
func decimal(x float32) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	if err != nil {
		return float64(x)
	}
	return v
}
