package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/genq-go/genq/examples/internal/corpus"
)

// clean makes a text safe for one TSV field as the original script does:
// tabs become spaces, and surrounding space is trimmed. Newlines also become
// spaces so that one pair stays on one line.
func clean(s string) string {
	s = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.TrimSpace(s)
}

// pair is one line of generated_queries.tsv.
type pair struct{ Query, Passage string }

// parsePairs reads the query<TAB>passage lines of data, the content of the
// file name. Every line must end with a newline: a last line without one is
// an unfinished write (generate was interrupted, e.g. by a full disk) and is
// refused rather than used as a pair with a truncated passage; running
// generate again completes the file. A line without a tab, and a blank line,
// are errors that name the line.
func parsePairs(data []byte, name string) ([]pair, error) {
	var out []pair
	for n := 1; len(data) > 0; n++ {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("%s line %d ends without a newline: it is an unfinished write (generate was interrupted, e.g. by a full disk); run the generate subcommand again to complete the file", name, n)
		}
		line := string(data[:nl])
		data = data[nl+1:]
		if strings.TrimSpace(line) == "" {
			return nil, fmt.Errorf("%s line %d is blank, and generate writes no blank lines: remove it (running the generate subcommand again removes blank lines at the end)", name, n)
		}
		q, p, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s line %d: want query<TAB>passage", name, n)
		}
		out = append(out, pair{q, p})
	}
	return out, nil
}

// resumeTSV prepares path for appending whole blocks of perPassage lines.
// It keeps the complete blocks already written (checking that their passage
// column matches passages, in order), cuts off what an interrupted run left
// after them — a partial block, a last line without its newline (an
// unfinished write), blank lines at the end — and returns the number of
// passages already done and the file opened for appending.
func resumeTSV(path string, passages []corpus.Passage, perPassage int) (done int, f *os.File, err error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return 0, nil, err
	}
	keep := 0 // bytes of complete blocks
	lines := 0
	for off := 0; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break // partial last line: dropped
		}
		line := string(data[off : off+nl])
		if strings.TrimSpace(line) == "" {
			if len(bytes.TrimSpace(data[off:])) == 0 {
				break // blank lines at the end: dropped
			}
			return 0, nil, fmt.Errorf("%s line %d is blank, and generate writes no blank lines: the file was edited; remove the line, or pass -overwrite to generate the file again", path, lines+1)
		}
		off += nl + 1
		_, para, ok := strings.Cut(line, "\t")
		p := lines / perPassage
		switch {
		case !ok:
			return 0, nil, fmt.Errorf("%s line %d has no tab: want query<TAB>passage; the file was edited or not written by generate: move it away or pass -overwrite", path, lines+1)
		case p >= len(passages):
			return 0, nil, fmt.Errorf("%s holds more lines than %d passages × %d queries (-limit, -queries-per-passage): it was written with other settings; move it away or pass -overwrite", path, len(passages), perPassage)
		case para != clean(passages[p].Text):
			return 0, nil, fmt.Errorf("%s line %d does not belong to passage %d of this corpus: it was written for another corpus or other settings; move it away or pass -overwrite", path, lines+1, p+1)
		}
		lines++
		if lines%perPassage == 0 {
			keep = off
		}
	}
	f, err = openTruncated(path, int64(keep))
	if err != nil {
		return 0, nil, err
	}
	if data == nil {
		// A new file: its name is durable before its first batch counts
		// as written (the batches themselves are synced as they go).
		if err := syncPath(filepath.Dir(path)); err != nil {
			f.Close()
			return 0, nil, err
		}
	}
	return lines / perPassage, f, nil
}

// tsvOut appends generate's queries to generated_queries.tsv, one
// "query<TAB>passage" line each, as the original script writes them.
type tsvOut struct {
	f       *os.File
	created bool // no passage was done: abandon removes the file
	lines   int
}

func (o *tsvOut) add(passages []corpus.Passage, queries [][]string) (int, error) {
	var b strings.Builder
	n := 0
	for i, qs := range queries {
		para := clean(passages[i].Text)
		for _, q := range qs {
			b.WriteString(clean(q))
			b.WriteByte('\t')
			b.WriteString(para)
			b.WriteByte('\n')
			n++
		}
	}
	if _, err := o.f.WriteString(b.String()); err != nil {
		return 0, fmt.Errorf("writing %s: %w", o.f.Name(), err)
	}
	if err := o.f.Sync(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", o.f.Name(), err)
	}
	o.lines += n
	return n, nil
}

func (o *tsvOut) total() int { return o.lines }

func (o *tsvOut) path() string { return o.f.Name() }

func (o *tsvOut) close() error { return o.f.Close() }

func (o *tsvOut) abandon() {
	o.f.Close()
	if o.created {
		os.Remove(o.f.Name())
	}
}
