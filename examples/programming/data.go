package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/genq-go/genq/examples/internal/corpus"
)

// bundledCorpus is data/programming.jsonl.gz: 30 programming technologies,
// 8 paragraphs each, in the original example's format. It is compiled into
// the binary so that the program runs from any folder.
//
//go:embed data/programming.jsonl.gz
var bundledCorpus []byte

// bundledEval is data/eval.jsonl: hand-written queries with the paragraphs
// of the bundled corpus that answer them.
//
//go:embed data/eval.jsonl
var bundledEval []byte

// bundledName is what -corpus and -eval show for the embedded files.
const bundledName = "bundled"

// loadCorpus reads the corpus named by -corpus: the embedded one for
// "bundled" (or ""), else a file as corpus.ReadFile reads it.
func loadCorpus(path string) ([]corpus.Passage, error) {
	if path == "" || path == bundledName {
		return corpus.ReadAll(bytes.NewReader(bundledCorpus), "data/programming.jsonl.gz")
	}
	return corpus.ReadFile(path)
}

// evalQuery is one line of eval.jsonl: a query and the paragraphs that
// answer it (paragraph = 0-based index within the document of that title).
type evalQuery struct {
	Query    string `json:"query"`
	Relevant []struct {
		Title     string `json:"title"`
		Paragraph int    `json:"paragraph"`
	} `json:"relevant"`
}

// relevantIDs returns the Passage.ID of every relevant paragraph.
func (q evalQuery) relevantIDs() []string {
	ids := make([]string, len(q.Relevant))
	for i, r := range q.Relevant {
		ids[i] = corpus.PassageID(r.Title, r.Paragraph)
	}
	return ids
}

// loadEval reads the labelled queries named by -eval: the embedded ones for
// "bundled" (or ""), else a JSON-lines file of the same format.
func loadEval(path string) ([]evalQuery, error) {
	if path == "" || path == bundledName {
		return parseEval(bytes.NewReader(bundledEval), "data/eval.jsonl")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval queries: %w", err)
	}
	defer f.Close()
	return parseEval(f, path)
}

func parseEval(r io.Reader, name string) ([]evalQuery, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, corpus.MaxLine)
	var out []evalQuery
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q evalQuery
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("%s line %d: want {\"query\": ..., \"relevant\": [{\"title\": ..., \"paragraph\": n}]}: %v", name, line, err)
		}
		if strings.TrimSpace(q.Query) == "" || len(q.Relevant) == 0 {
			return nil, fmt.Errorf("%s line %d: a query needs a text and at least one relevant paragraph", name, line)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no queries", name)
	}
	return out, nil
}

// checkEval verifies that every relevant paragraph of qs is a passage of the
// corpus, and returns the relevant passage ids of each query, each graded 1.
func checkEval(qs []evalQuery, passages []corpus.Passage, evalName string) ([]map[string]int, error) {
	have := make(map[string]bool, len(passages))
	for _, p := range passages {
		have[p.ID] = true
	}
	out := make([]map[string]int, len(qs))
	for i, q := range qs {
		out[i] = map[string]int{}
		for _, id := range q.relevantIDs() {
			if !have[id] {
				return nil, fmt.Errorf("eval query %d (%q) marks %s as relevant, but the corpus has no such paragraph; with your own -corpus, pass -eval with queries about it", i+1, q.Query, id)
			}
			out[i][id] = 1
		}
	}
	return out, nil
}
