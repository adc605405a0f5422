package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Passage is one paragraph of the corpus with the title of the document it came from.
type Passage struct {
	Title string
	Index int // paragraph number within its document, from 0
	Text  string
}

// ID names a passage as "Title#Index", the key eval.jsonl uses.
func (p Passage) ID() string { return fmt.Sprintf("%s#%d", p.Title, p.Index) }

// readCorpus reads passages from a file in the original GenQ example's format —
// JSON lines of {"title": ..., "paragraphs": [...]}, optionally gzipped — or, for
// any other file, plain text with one passage per line (blank lines skipped).
func readCorpus(path string) ([]Passage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	return parseCorpus(f, path)
}

// maxLine bounds one line of a corpus or eval file (one JSON document with
// all its paragraphs): a longer line is an error, not an allocation of
// whatever size the file implies. The line buffer grows from 4 KiB as lines
// need it.
const maxLine = 64 << 20

// parseCorpus reads passages as readCorpus does from r; name is the file name,
// used in errors and to recognise the JSON-lines format by its extension.
func parseCorpus(in io.Reader, path string) ([]Passage, error) {
	var r io.Reader
	br := bufio.NewReader(in)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxLine)
	var out []Passage
	line := 0
	jsonl := strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".jsonl.gz") ||
		strings.HasSuffix(path, ".json.gz") || strings.HasSuffix(path, ".json")
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if jsonl || (line == 1 && strings.HasPrefix(text, "{")) {
			jsonl = true
			var doc struct {
				Title      string   `json:"title"`
				Paragraphs []string `json:"paragraphs"`
			}
			if err := json.Unmarshal([]byte(text), &doc); err != nil {
				return nil, fmt.Errorf("corpus %s line %d: want {\"title\": ..., \"paragraphs\": [...]}: %v", path, line, err)
			}
			for i, p := range doc.Paragraphs {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, Passage{Title: doc.Title, Index: i, Text: p})
				}
			}
			continue
		}
		out = append(out, Passage{Title: fmt.Sprintf("line %d", line), Index: 0, Text: text})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpus %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("corpus %s holds no passages", path)
	}
	return out, nil
}
