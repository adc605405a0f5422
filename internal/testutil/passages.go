package testutil

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// proseSentences is ordinary English prose of the kind GenQ generates queries
// for; the {placeholders} are filled with numbers that differ from passage to
// passage (see fillNumbers).
var proseSentences = []string{
	"The city council approved a budget of ${n} million for the new library, which is expected to open in {year}.",
	"Researchers at the university measured a {x.x}% drop in water use after the irrigation system was replaced.",
	"According to the report, more than {n} people attended the festival, a record for the region.",
	"The bridge, built in {year}, spans {n} metres across the river and carries both road and rail traffic.",
	"Patients who took the drug for {small} weeks reported fewer symptoms than those in the control group (p < 0.05).",
	"In {year}, the company moved its headquarters to Chicago; it now employs about {n} people worldwide.",
	"The museum's collection includes paintings, sculptures, and manuscripts from the {small}th century.",
	"Average temperatures in July reach {x.x} °C, while winter nights often fall below freezing.",
	"She won the championship in {year}, defeating the defending title-holder in straight sets: 6-4, 7-5.",
	"The recipe calls for {n} grams of flour, two eggs, a pinch of salt and {n} ml of warm milk.",
	"Version {small}.{small} of the software adds support for encrypted backups and fixes several security issues.",
	"The population of the town grew from {n} to nearly {n} between the two censuses.",
	"Scientists believe the comet last passed close to Earth about {n} years ago.",
	"Its engine produces {n} horsepower, and the car accelerates from 0 to 100 km/h in {x.x} seconds.",
	"Critics praised the novel's characters, although some found the ending rushed and unconvincing.",
	"The treaty, signed by {small} countries, aims to cut emissions by {small}% before the end of the decade.",
	"Why do leaves change colour in autumn? As days shorten, trees stop producing chlorophyll.",
	"The train leaves the station at {hh}:{mm} every weekday and takes roughly {small} minutes to reach the airport.",
	"Tickets cost €{small} for adults and €{small} for children under twelve; admission is free on Sundays.",
	"Early settlers farmed wheat and barley, kept sheep, and traded wool with merchants from the coast.",
	"The algorithm sorts n items in O(n log n) time and uses only a constant amount of extra memory.",
	"During the storm, wind speeds of {n} km/h were recorded, and {n} homes lost power for several days.",
	"He studied law in Paris before returning home, where he served as mayor for {small} years.",
	"The study followed {n} children from birth to age {small}, tracking their health, schooling, and income.",
}

// fillNumbers writes s to sb with each placeholder replaced by a random
// number of its kind: {year} 1850–2023, {n} 2–9999, {small} 2–59, {x.x} a
// one-decimal number below 40, {hh}:{mm} a time of day.
func fillNumbers(sb *strings.Builder, rng *rand.Rand, s string) {
	for {
		before, rest, ok := strings.Cut(s, "{")
		sb.WriteString(before)
		if !ok {
			return
		}
		kind, after, _ := strings.Cut(rest, "}")
		switch kind {
		case "year":
			fmt.Fprint(sb, 1850+rng.IntN(174))
		case "n":
			fmt.Fprint(sb, 2+rng.IntN(9998))
		case "small":
			fmt.Fprint(sb, 2+rng.IntN(58))
		case "x.x":
			fmt.Fprintf(sb, "%.1f", rng.Float64()*40)
		case "hh":
			fmt.Fprint(sb, rng.IntN(24))
		case "mm":
			fmt.Fprintf(sb, "%02d", rng.IntN(60))
		}
		s = after
	}
}

// Passages returns n passages of about 1,250 characters (≈300 T5 or BERT
// tokens) of English prose with punctuation and numbers, built from the same
// sentences in a different order, with different numbers, for each passage.
// The same n always gives the same passages. Tokenizer benchmarks use them.
func Passages(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	var sb strings.Builder
	for i := range out {
		sb.Reset()
		for sb.Len() < 1250 {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			fillNumbers(&sb, rng, proseSentences[rng.IntN(len(proseSentences))])
		}
		out[i] = sb.String()
	}
	return out
}

// PassageCorpus is the corpus of the tokenizer passage benchmarks: 10,000
// Passages and how many tokens they make together.
type PassageCorpus struct {
	Passages []string
	Tokens   int
}

// PassageBench skips b under -short, and otherwise returns the corpus of
// 10,000 passages, whose tokens count counts (one passage's ids, truncated as
// the benchmark truncates); their average must be 300 ± 50.
func PassageBench(b *testing.B, count func(passage string) int) *PassageCorpus {
	b.Helper()
	if testing.Short() {
		b.Skip("10,000 passages: skipped under -short")
	}
	c := &PassageCorpus{Passages: Passages(10_000)}
	for _, p := range c.Passages {
		c.Tokens += count(p)
	}
	require.InDelta(b, 300, c.Tokens/len(c.Passages), 50, "average tokens of a passage")
	return c
}

// Report reports the throughput of b, each of whose ops went over the whole
// corpus: passages/s, tokens/s and tokens/passage.
func (c *PassageCorpus) Report(b *testing.B) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(c.Passages)*b.N)/s, "passages/s")
	b.ReportMetric(float64(c.Tokens*b.N)/s, "tokens/s")
	b.ReportMetric(float64(c.Tokens)/float64(len(c.Passages)), "tokens/passage")
}
