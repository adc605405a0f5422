// Package beir reads and writes the data layout of BEIR (Thakur et al.
// 2021, github.com/beir-cellar/beir), the benchmark every published GenQ
// and GPL figure is measured on, for genq's examples.
//
// A BEIR dataset is a folder of
//
//	corpus.jsonl        one document a line: {"_id": ..., "title": ..., "text": ..., ...}
//	queries.jsonl       one query a line:    {"_id": ..., "text": ..., ...}
//	qrels/<split>.tsv   header "query-id<TAB>corpus-id<TAB>score", then one judgement a line
//
// read as BEIR's GenericDataLoader reads it (Load): the corpus in file
// order, the queries restricted to those the split's qrels judge, scores as
// integers. Fields other than these are ignored, as BEIR ignores them.
//
// BEIR's GenQ (beir.generation.QueryGenerator.generate and .save, read in
// beir-cellar/beir's beir/generation/generate.py and beir/util.py) writes
// its generated queries as a dataset beside the corpus, under a prefix
// ("gen" by default):
//
//	<prefix>-queries.jsonl       {"_id": "genQ<n>", "text": ..., "metadata": {}} a line
//	<prefix>-qrels/train.tsv     "genQ<n><TAB><corpus-id><TAB>1" a line, after the header
//
// so that GenericDataLoader(folder, prefix="gen").load(split="train") reads
// them back with the folder's corpus.jsonl. Issue 15's "gen-queries.jsonl +
// qrels/train.tsv" is this layout with the qrels folder's prefix left out:
// BEIR's own code names the folder gen-qrels, and so do QueriesPath and
// QrelsPath. The ids are numbered over the whole corpus, in corpus order,
// from genQ1: for each passage BEIR strips its sampled queries
// (str.strip), keeps the distinct ones (a Python set) and numbers them on
// from the previous passage's last, so a passage with a repeated query gets
// fewer ids and every later id moves. GenQWriter does the same, with one
// documented difference: BEIR walks the set in Python's hash order, which
// changes from process to process (PYTHONHASHSEED), so the order of one
// passage's queries, and which id each gets, is not reproducible there;
// GenQWriter keeps the first occurrence of each query in sampling order.
// The bytes are those BEIR writes: json.dump's separators and ASCII
// escapes in the queries file, csv.writer's tab-separated rows ending in
// "\r\n" (its default line terminator) in the qrels file.
package beir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Doc is one record of corpus.jsonl.
type Doc struct {
	ID, Title, Text string
}

// Passage is the text BEIR's models read for d: its title, a space and
// its text, stripped of surrounding white space (sentence-transformers
// retrieval's encode_corpus; QueryGenerator's T5 input is the same text
// before the strip, which the T5 tokenizer's normaliser drops anyway).
func (d Doc) Passage() string { return Strip(d.Title + " " + d.Text) }

// Query is one record of queries.jsonl (or of <prefix>-queries.jsonl).
type Query struct {
	ID, Text string
}

// Reasons a line of corpus.jsonl or queries.jsonl is refused; the errors
// ParseCorpusLine and ParseQueryLine return wrap one of them (test with
// errors.Is), and their message says what was found.
var (
	// ErrNotJSON: the line is not one JSON object.
	ErrNotJSON = errors.New("not a JSON object")
	// ErrNoID: the object has no "_id", or an empty or non-scalar one.
	ErrNoID = errors.New("no _id")
	// ErrNoText: a corpus document with an empty title and text.
	ErrNoText = errors.New("no text")
)

// MaxLine bounds one line of a file this package reads: a longer line is
// an error, not an allocation of whatever size the file implies.
const MaxLine = 64 << 20

// record is what the parsers take from a JSON line: the fields BEIR reads.
type record struct {
	ID    json.RawMessage `json:"_id"`
	Title *string         `json:"title"`
	Text  *string         `json:"text"`
}

// parseRecord decodes one JSON line and its _id. An _id may be a JSON
// string or number (the number's literal text is the id); BEIR's
// datasets use strings.
func parseRecord(line []byte) (record, string, error) {
	var r record
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return r, "", fmt.Errorf("%w: the line starts with %q", ErrNotJSON, prefix(line))
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return r, "", fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	raw := bytes.TrimSpace(r.ID)
	var id string
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return r, "", fmt.Errorf("%w: the object has no \"_id\" field", ErrNoID)
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &id); err != nil {
			return r, "", fmt.Errorf("%w: %v", ErrNotJSON, err)
		}
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		id = string(raw)
	default:
		return r, "", fmt.Errorf("%w: \"_id\" is %s, want a string", ErrNoID, prefix(raw))
	}
	if Strip(id) == "" {
		return r, "", fmt.Errorf("%w: \"_id\" is empty", ErrNoID)
	}
	return r, id, nil
}

// prefix is the start of b for an error message.
func prefix(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// ParseCorpusLine parses one line of corpus.jsonl. The error, if any,
// wraps ErrNotJSON, ErrNoID or ErrNoText and says why, so that a pipeline
// can send the line to a dead-letter output and go on. A document with a
// title and no text is kept (BEIR's models read its title).
func ParseCorpusLine(line []byte) (Doc, error) {
	r, id, err := parseRecord(line)
	if err != nil {
		return Doc{}, err
	}
	d := Doc{ID: id}
	if r.Title != nil {
		d.Title = *r.Title
	}
	if r.Text != nil {
		d.Text = *r.Text
	}
	if d.Passage() == "" {
		return Doc{}, fmt.Errorf("%w: document %q has an empty title and text", ErrNoText, id)
	}
	return d, nil
}

// ParseQueryLine parses one line of queries.jsonl, as ParseCorpusLine
// does a corpus line, except that an empty or missing text is kept as ""
// (the error wraps ErrNotJSON or ErrNoID): BEIR's GenQ writes an empty
// query when the model samples one, and BEIR's loader reads it back.
func ParseQueryLine(line []byte) (Query, error) {
	r, id, err := parseRecord(line)
	if err != nil {
		return Query{}, err
	}
	q := Query{ID: id}
	if r.Text != nil {
		q.Text = *r.Text
	}
	return q, nil
}

// QrelsHeader is the first line of a qrels file (without its line end).
const QrelsHeader = "query-id\tcorpus-id\tscore"

// Qrel is one judgement of a qrels file: how relevant document CorpusID
// is to query QueryID (0: not relevant; BEIR's datasets use 1 and 2).
type Qrel struct {
	QueryID, CorpusID string
	Score             int
}

// ParseQrelsLine parses one line of a qrels file after its header: three
// tab-separated fields as Python's csv module reads them (a field may be
// quoted with "", a doubled "" inside being one "), the score an integer
// (BEIR's loader calls int() on it). A line end, "\n" or "\r\n", may be
// left on.
func ParseQrelsLine(line string) (Qrel, error) {
	line = strings.TrimRight(line, "\r\n")
	fields, err := splitTSV(line)
	if err != nil {
		return Qrel{}, err
	}
	if len(fields) != 3 {
		return Qrel{}, fmt.Errorf("%d fields, want 3: query-id<TAB>corpus-id<TAB>score", len(fields))
	}
	score, err := strconv.Atoi(strings.TrimSpace(fields[2]))
	if err != nil {
		return Qrel{}, fmt.Errorf("score %q is not an integer", fields[2])
	}
	if fields[0] == "" || fields[1] == "" {
		return Qrel{}, errors.New("empty query-id or corpus-id")
	}
	return Qrel{QueryID: fields[0], CorpusID: fields[1], Score: score}, nil
}

// splitTSV splits one line into tab-separated fields, undoing
// csv.QUOTE_MINIMAL quoting.
func splitTSV(line string) ([]string, error) {
	var out []string
	for {
		if !strings.HasPrefix(line, `"`) {
			f, rest, more := strings.Cut(line, "\t")
			out = append(out, f)
			if !more {
				return out, nil
			}
			line = rest
			continue
		}
		var b strings.Builder
		i := 1
		for {
			j := strings.IndexByte(line[i:], '"')
			if j < 0 {
				return nil, errors.New("a quoted field has no closing quote")
			}
			b.WriteString(line[i : i+j])
			i += j + 1
			if i < len(line) && line[i] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			break
		}
		out = append(out, b.String())
		switch {
		case i == len(line):
			return out, nil
		case line[i] != '\t':
			return nil, errors.New("text after a quoted field")
		}
		line = line[i+1:]
	}
}

// Strip removes leading and trailing white space as Python's str.strip()
// does: Unicode white space, and the separators U+001C–U+001F, which
// Python counts as white space and Go's unicode.IsSpace does not.
func Strip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}
