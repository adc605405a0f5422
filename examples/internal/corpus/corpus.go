// Package corpus reads the passages genq's examples generate queries for,
// search and evaluate, from any corpus file they accept:
//
//   - the programming example's format (the original GenQ example's):
//     JSON lines {"title": ..., "paragraphs": [...]}, one passage per
//     non-blank paragraph;
//   - a BEIR corpus.jsonl: JSON lines {"_id": ..., "title": ..., "text": ...},
//     one passage per document (package beir parses the lines);
//   - plain text: one passage per non-blank line.
//
// Each may be gzipped (recognised by its magic bytes). A JSON-lines file
// is recognised by its extension (.jsonl, .json, with or without .gz) or a
// first line that starts with "{"; each JSON line is a document of the
// programming format when it has "paragraphs" and no "_id", else a BEIR
// document (a line that is neither is refused: not JSON, or no _id).
//
// Reader streams the passages one at a time, so that a pipeline can read
// a corpus of any size and shard the passages; ReadAll and ReadFile
// collect them. Each Passage carries its Position in the corpus, the
// number genq's generation uses as t5.GenerateOptions.FirstIndex so that
// every passage samples from a random stream of its own, whichever batch,
// worker or shard it lands in.
package corpus

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/genq-go/genq/examples/internal/beir"
)

// Passage is one passage of a corpus.
type Passage struct {
	// ID names the passage: PassageID(Title, Paragraph) in the
	// programming example's format, the document's _id in a BEIR corpus,
	// PassageID("line N", 0) for line N of a plain-text file.
	ID string
	// Title is the title of the document the passage came from ("line N"
	// in a plain-text file).
	Title string
	// Paragraph is the passage's number within its document, from 0 (0
	// in a BEIR or plain-text corpus).
	Paragraph int
	// Text is what the models read: the paragraph, the line, or a BEIR
	// document's title and text as beir.Doc.Passage joins them.
	Text string
	// Position is the passage's 0-based place among the passages the
	// corpus yields, in file order; lines skipped as bad do not count.
	// It is what generation passes as t5.GenerateOptions.FirstIndex.
	Position int
}

// PassageID names paragraph n of the document titled title: "title#n",
// the key the programming example's eval.jsonl uses.
func PassageID(title string, n int) string { return fmt.Sprintf("%s#%d", title, n) }

// FromDoc is the passage of BEIR document d at position (Position):
// its _id, title, and the text BEIR's models read (beir.Doc.Passage).
func FromDoc(d beir.Doc, position int) Passage {
	return Passage{ID: d.ID, Title: d.Title, Text: d.Passage(), Position: position}
}

// MaxLine bounds one line of a corpus file (one JSON document with all its
// paragraphs): a longer line is an error, not an allocation of whatever
// size the file implies.
const MaxLine = beir.MaxLine

// BadLine is a line a Reader with an OnBadLine hook skipped.
type BadLine struct {
	Name string // the file, as given to NewReader
	Line int    // from 1
	Text string // the line as read
	Err  error  // why it was refused (wraps beir.ErrNotJSON, ErrNoID or ErrNoText)
}

// format is what the lines of a corpus file hold.
type format int

const (
	unknown format = iota
	plain
	jsonLines
)

// Reader reads passages from a corpus file one at a time.
type Reader struct {
	// OnBadLine, when set, is called with each line that cannot be read
	// (not JSON, a BEIR document without _id or text), which is then
	// skipped; when nil, such a line ends the read with an error.
	OnBadLine func(BadLine)

	name    string
	sc      *bufio.Scanner
	closers []io.Closer
	format  format
	jsonl   bool
	line    int
	next    int       // Position of the next passage
	pending []Passage // the rest of the current document's paragraphs
}

// NewReader returns a Reader of the corpus in r; name is the file name,
// used in errors and to recognise a JSON-lines file by its extension.
func NewReader(r io.Reader, name string) (*Reader, error) {
	br := bufio.NewReader(r)
	rd := &Reader{name: name}
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", name, err)
		}
		rd.closers = append(rd.closers, gz)
		in = gz
	}
	rd.sc = bufio.NewScanner(in)
	rd.sc.Buffer(nil, MaxLine)
	for _, ext := range []string{".jsonl", ".jsonl.gz", ".json", ".json.gz"} {
		rd.jsonl = rd.jsonl || strings.HasSuffix(name, ext)
	}
	return rd, nil
}

// Open returns a Reader of the corpus file at path; Close it when done.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	rd, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	rd.closers = append(rd.closers, f)
	return rd, nil
}

// Close releases what the Reader holds (the file Open opened).
func (r *Reader) Close() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c.Close())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// Next returns the next passage, or io.EOF after the last.
func (r *Reader) Next() (Passage, error) {
	for len(r.pending) == 0 {
		if !r.sc.Scan() {
			if err := r.sc.Err(); err != nil {
				return Passage{}, fmt.Errorf("corpus %s: %w", r.name, err)
			}
			return Passage{}, io.EOF
		}
		r.line++
		text := strings.TrimSpace(r.sc.Text())
		if text == "" {
			continue
		}
		if err := r.parse(text); err != nil {
			if r.OnBadLine == nil {
				return Passage{}, fmt.Errorf("corpus %s line %d: %w", r.name, r.line, err)
			}
			r.OnBadLine(BadLine{Name: r.name, Line: r.line, Text: r.sc.Text(), Err: err})
		}
	}
	p := r.pending[0]
	r.pending = r.pending[1:]
	p.Position = r.next
	r.next++
	return p, nil
}

// parse turns one non-blank line into r.pending.
func (r *Reader) parse(text string) error {
	if r.format == unknown {
		r.format = plain
		if r.jsonl || (r.line == 1 && strings.HasPrefix(text, "{")) {
			r.format = jsonLines
		}
	}
	if r.format == plain {
		title := fmt.Sprintf("line %d", r.line)
		r.pending = append(r.pending, Passage{ID: PassageID(title, 0), Title: title, Text: text})
		return nil
	}
	// Each JSON line is a document of the programming format when it has
	// "paragraphs" and no "_id", else a BEIR document.
	var doc struct {
		ID         json.RawMessage `json:"_id"`
		Title      string          `json:"title"`
		Paragraphs *[]string       `json:"paragraphs"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil || doc.Paragraphs == nil || doc.ID != nil {
		d, err := beir.ParseCorpusLine([]byte(text))
		if err != nil {
			return fmt.Errorf("%w (want {\"_id\": ..., \"title\": ..., \"text\": ...} or {\"title\": ..., \"paragraphs\": [...]})", err)
		}
		r.pending = append(r.pending, FromDoc(d, 0))
		return nil
	}
	for i, p := range *doc.Paragraphs {
		if p = strings.TrimSpace(p); p != "" {
			r.pending = append(r.pending, Passage{ID: PassageID(doc.Title, i), Title: doc.Title, Paragraph: i, Text: p})
		}
	}
	return nil
}

// ReadAll reads every passage of the corpus in r (name as for NewReader).
// A corpus without passages is an error.
func ReadAll(r io.Reader, name string) ([]Passage, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return collect(rd, name)
}

// ReadFile reads every passage of the corpus file at path.
func ReadFile(path string) ([]Passage, error) {
	rd, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return collect(rd, path)
}

func collect(rd *Reader, name string) ([]Passage, error) {
	var out []Passage
	for {
		p, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("corpus %s holds no passages", name)
	}
	return out, nil
}
