package beir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Dataset is a BEIR dataset as GenericDataLoader.load(split) returns it.
type Dataset struct {
	// Corpus holds the documents in file order.
	Corpus []Doc
	// Queries holds the queries the split judges, in the order the qrels
	// file first names them (BEIR's {qid: queries[qid] for qid in qrels}).
	Queries []Query
	// Qrels maps a query id to its judged documents and their scores.
	Qrels map[string]map[string]int
}

// Load reads the BEIR dataset in dir: corpus.jsonl, queries.jsonl and
// qrels/<split>.tsv. A query the qrels judge but queries.jsonl lacks is an
// error (BEIR fails on it too); judged documents missing from the corpus
// are kept in Qrels (they count in the ideal ranking, as in BEIR).
func Load(dir, split string) (*Dataset, error) { return LoadPrefix(dir, "", split) }

// LoadPrefix reads a dataset as Load does, with the queries and qrels
// under prefix as GenericDataLoader(dir, prefix=prefix) reads them:
// corpus.jsonl, <prefix>-queries.jsonl, <prefix>-qrels/<split>.tsv (the
// files GenQ writes, for prefix DefaultPrefix and split GenSplit).
func LoadPrefix(dir, prefix, split string) (*Dataset, error) {
	var ds Dataset
	var err error
	if ds.Corpus, err = readFile(filepath.Join(dir, "corpus.jsonl"), ReadCorpus); err != nil {
		return nil, err
	}
	queriesPath := QueriesPath(dir, prefix)
	queries, err := readFile(queriesPath, ReadQueries)
	if err != nil {
		return nil, err
	}
	qrelsPath := QrelsPath(dir, prefix, split)
	qrels, err := readFile(qrelsPath, ReadQrels)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]string, len(queries))
	for _, q := range queries {
		byID[q.ID] = q.Text
	}
	ds.Qrels = map[string]map[string]int{}
	for _, r := range qrels {
		docs, ok := ds.Qrels[r.QueryID]
		if !ok {
			text, ok := byID[r.QueryID]
			if !ok {
				return nil, fmt.Errorf("%s judges query %q, which %s does not hold: the files are from different datasets or versions", qrelsPath, r.QueryID, queriesPath)
			}
			ds.Queries = append(ds.Queries, Query{ID: r.QueryID, Text: text})
			docs = map[string]int{}
			ds.Qrels[r.QueryID] = docs
		}
		docs[r.CorpusID] = r.Score // a repeated pair keeps its last score, as BEIR's dict does
	}
	if len(ds.Queries) == 0 {
		return nil, fmt.Errorf("%s judges no query", qrelsPath)
	}
	return &ds, nil
}

// readFile opens path and reads it with read.
func readFile[T any](path string, read func(io.Reader, string) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("BEIR dataset: %w", err)
	}
	defer f.Close()
	return read(f, path)
}

// scanLines calls fn with each line of r (numbered from 1, line end
// removed) that is not blank.
func scanLines(r io.Reader, name string, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, MaxLine)
	for n := 1; sc.Scan(); n++ {
		if len(Strip(sc.Text())) == 0 {
			continue
		}
		if err := fn(n, sc.Bytes()); err != nil {
			return fmt.Errorf("%s line %d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ReadCorpus reads a corpus.jsonl from r (name is used in errors): every
// document in file order. A bad line, or an _id seen before, is an error
// naming the line; blank lines are skipped.
func ReadCorpus(r io.Reader, name string) ([]Doc, error) {
	out, err := readRecords(r, name, "document", ParseCorpusLine, func(d Doc) string { return d.ID })
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s holds no documents", name)
	}
	return out, err
}

// ReadQueries reads a queries.jsonl from r as ReadCorpus reads a corpus.
func ReadQueries(r io.Reader, name string) ([]Query, error) {
	return readRecords(r, name, "query", ParseQueryLine, func(q Query) string { return q.ID })
}

// readRecords parses every line of r with parse, refusing an id seen
// before.
func readRecords[T any](r io.Reader, name, what string, parse func([]byte) (T, error), id func(T) string) ([]T, error) {
	var out []T
	seen := map[string]int{}
	err := scanLines(r, name, func(n int, line []byte) error {
		rec, err := parse(line)
		if err != nil {
			return err
		}
		if first, ok := seen[id(rec)]; ok {
			return fmt.Errorf("_id %q was already used on line %d: %s ids must be unique", id(rec), first, what)
		}
		seen[id(rec)] = n
		out = append(out, rec)
		return nil
	})
	return out, err
}

// ReadQrels reads a qrels file from r: its first line is the header, which
// BEIR skips whatever it says; a first line that parses as a judgement is
// refused rather than dropped.
func ReadQrels(r io.Reader, name string) ([]Qrel, error) {
	var out []Qrel
	first := true
	err := scanLines(r, name, func(n int, line []byte) error {
		if first {
			first = false
			if _, err := ParseQrelsLine(string(line)); err == nil {
				return errors.New("the file has no header: its first line is a judgement, and BEIR skips the first line; add the line " + QrelsHeader)
			}
			return nil
		}
		q, err := ParseQrelsLine(string(line))
		if err != nil {
			return err
		}
		out = append(out, q)
		return nil
	})
	return out, err
}
