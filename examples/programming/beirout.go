package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
)

// beirOut writes generate's queries in the layout BEIR's GenQ writes
// (package examples/internal/beir): <prefix>-queries.jsonl and
// <prefix>-qrels/train.tsv under -out, beside a corpus.jsonl of the
// passages. Each batch is appended to the queries file and synced, then to
// the qrels file and synced, so the qrels file never names a query the
// queries file lacks; resumeBEIR relies on that.
type beirOut struct {
	queries, qrels *os.File
	qPath, rPath   string
	gen            beir.GenQ
	created        bool // the files were new: abandon removes them
}

// resumeBEIR opens the BEIR files under dir for appending whole passages,
// as resumeTSV does the TSV. The qrels file says which passages are done:
// its query ids must run genQ1, genQ2, … and its corpus ids follow the
// passages in order, each passage taking 1 to perPassage lines (its
// distinct queries). A passage is done when a later passage follows it,
// or when it has all perPassage lines; the last passage of the file with
// fewer lines may have been cut short by an interruption, so it is
// generated again (it samples from its own stream, so it gets the same
// queries). What follows the done passages in either file (a partial
// line, the queries of a batch whose qrels were not written) is cut off.
func resumeBEIR(dir, prefix string, passages []corpus.Passage, perPassage int) (out *beirOut, done int, err error) {
	o := &beirOut{qPath: beir.QueriesPath(dir, prefix), rPath: beir.QrelsPath(dir, prefix, beir.GenSplit)}
	if err := os.MkdirAll(filepath.Dir(o.rPath), 0o755); err != nil {
		return nil, 0, err
	}
	rData, err := readIfExists(o.rPath)
	if err != nil {
		return nil, 0, err
	}
	qData, err := readIfExists(o.qPath)
	if err != nil {
		return nil, 0, err
	}
	o.created = rData == nil && qData == nil
	edited := func(path string, line int, what string) error {
		return fmt.Errorf("%s line %d %s: the file was edited, or written for another corpus or other settings (-limit, -queries-per-passage); move it away or pass -overwrite", path, line, what)
	}

	// The complete passages of the qrels file: boundaries[i] is the number
	// of qrels lines and the bytes of the file after passage i.
	type boundary struct{ lines, bytes int }
	boundaries := []boundary{{0, 0}}
	header := beir.AppendQrelsHeader(nil)
	switch {
	case len(rData) == 0 || bytes.HasPrefix(header, rData):
		// new, or only part of the header was written
	case !bytes.HasPrefix(rData, header):
		return nil, 0, edited(o.rPath, 1, "is not the header "+beir.QrelsHeader)
	default:
		boundaries[0].bytes = len(header)
		p, run, lines := -1, 0, 0
		for off := len(header); off < len(rData); {
			nl := bytes.IndexByte(rData[off:], '\n')
			if nl < 0 {
				break // a partial last line
			}
			r, err := beir.ParseQrelsLine(string(rData[off : off+nl]))
			if err != nil {
				return nil, 0, edited(o.rPath, lines+2, "cannot be read ("+err.Error()+")")
			}
			if r.QueryID != beir.GenQID(lines+1) || r.Score != 1 {
				return nil, 0, edited(o.rPath, lines+2, fmt.Sprintf("is %s %s %d, not query %s", r.QueryID, r.CorpusID, r.Score, beir.GenQID(lines+1)))
			}
			if p < 0 || run == perPassage || r.CorpusID != passages[p].ID {
				// A new passage: the one before is complete.
				if p >= 0 && run < perPassage {
					boundaries = append(boundaries, boundary{lines, off})
				}
				if p++; p >= len(passages) || r.CorpusID != passages[p].ID {
					return nil, 0, edited(o.rPath, lines+2, fmt.Sprintf("names passage %q, not passage %d of this corpus", r.CorpusID, p+1))
				}
				run = 0
			}
			run++
			lines++
			off += nl + 1
			if run == perPassage {
				boundaries = append(boundaries, boundary{lines, off})
			}
		}
	}

	// The queries file must hold the queries the kept qrels name; if it
	// holds fewer (damaged), fall back to the last passage it completes.
	qOff, qLines := 0, 0
	qEnds := []int{0}
	for qOff < len(qData) {
		nl := bytes.IndexByte(qData[qOff:], '\n')
		if nl < 0 {
			break
		}
		want := beir.AppendQuery(nil, beir.Query{ID: beir.GenQID(qLines + 1)})
		want = want[:bytes.Index(want, []byte(`"text"`))]
		if !bytes.HasPrefix(qData[qOff:qOff+nl], want) {
			if qLines < boundaries[len(boundaries)-1].lines {
				return nil, 0, edited(o.qPath, qLines+1, "is not query "+beir.GenQID(qLines+1))
			}
			break // after the kept queries: cut off
		}
		qOff += nl + 1
		qLines++
		qEnds = append(qEnds, qOff)
	}
	keep := boundaries[0]
	done = 0
	for i, b := range boundaries {
		if b.lines <= qLines {
			keep, done = b, i
		}
	}

	o.queries, err = openTruncated(o.qPath, int64(qEnds[keep.lines]))
	if err != nil {
		return nil, 0, err
	}
	rKeep := keep.bytes
	if keep.lines == 0 {
		rKeep = 0
	}
	o.qrels, err = openTruncated(o.rPath, int64(rKeep))
	if err == nil && rKeep == 0 {
		err = o.write(o.qrels, header)
	}
	if err == nil && o.created {
		// New files: their names are durable before the first batch
		// counts as written.
		err = errors.Join(syncPath(filepath.Dir(o.rPath)), syncPath(dir))
	}
	if err != nil {
		o.close()
		return nil, 0, err
	}
	o.gen.Next = keep.lines + 1
	return o, done, nil
}

func readIfExists(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return data, nil
}

// openTruncated opens path for appending after its first size bytes.
func openTruncated(path string, size int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// write appends data to f and syncs it.
func (o *beirOut) write(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	return nil
}

func (o *beirOut) add(passages []corpus.Passage, queries [][]string) (int, error) {
	var q, r []byte
	total := 0
	for i, p := range passages {
		var n int
		q, r, n = o.gen.Append(q, r, p.ID, queries[i])
		total += n
	}
	if err := o.write(o.queries, q); err != nil {
		return 0, err
	}
	return total, o.write(o.qrels, r)
}

func (o *beirOut) total() int { return o.gen.Next - 1 }

func (o *beirOut) path() string { return o.qPath + " and " + o.rPath }

func (o *beirOut) close() error { return errors.Join(o.queries.Close(), o.qrels.Close()) }

func (o *beirOut) abandon() {
	o.close()
	if o.created {
		os.Remove(o.qPath)
		os.Remove(o.rPath)
	}
}

// writeBEIRCorpus writes dir/corpus.jsonl, the passages as BEIR documents
// (their ID as _id, an empty title and the passage as text, so that BEIR's
// title + " " + text, stripped, is the text genq's models read), so that
// dir is a dataset GenericDataLoader(dir, prefix) loads. It leaves the file
// alone when it is -corpus itself or already holds exactly these
// documents; a file with other documents is an error unless overwrite.
func writeBEIRCorpus(dir, corpusPath string, passages []corpus.Passage, overwrite bool) (string, error) {
	path := filepath.Join(dir, "corpus.jsonl")
	if a, err := os.Stat(path); err == nil {
		if b, err := os.Stat(corpusPath); err == nil && os.SameFile(a, b) {
			return path, nil
		}
	}
	var data []byte
	for _, p := range passages {
		data = beir.AppendDoc(data, beir.Doc{ID: p.ID, Text: p.Text})
	}
	old, err := readIfExists(path)
	switch {
	case err != nil:
		return "", err
	case bytes.Equal(old, data):
		return path, nil
	case old != nil && !overwrite:
		return "", fmt.Errorf("%s holds other documents than -corpus: it belongs to another corpus; move it away or pass -overwrite", path)
	}
	return path, saveAtomic(path, func(tmp string) error { return os.WriteFile(tmp, data, 0o644) })
}
