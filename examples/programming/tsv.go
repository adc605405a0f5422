package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
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

// readPairs reads query<TAB>passage lines; a line without a tab is an error
// that names it.
func readPairs(path string) ([]pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []pair
	for n := 1; sc.Scan(); n++ {
		q, p, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return nil, fmt.Errorf("%s line %d: want query<TAB>passage", path, n)
		}
		out = append(out, pair{q, p})
	}
	return out, sc.Err()
}

// resumeTSV prepares path for appending whole blocks of perPassage lines.
// It keeps the complete blocks already written (checking that their passage
// column matches passages, in order), cuts off a partial line or block left
// by an interrupted run, and returns the number of passages already done and
// the file opened for appending.
func resumeTSV(path string, passages []Passage, perPassage int) (done int, f *os.File, err error) {
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
		off += nl + 1
		_, para, ok := strings.Cut(line, "\t")
		p := lines / perPassage
		if !ok || p >= len(passages) || para != clean(passages[p].Text) {
			return 0, nil, fmt.Errorf("%s line %d does not belong to passage %d of this corpus: it was written for another corpus or other settings; move it away or pass -overwrite", path, lines+1, p+1)
		}
		lines++
		if lines%perPassage == 0 {
			keep = off
		}
	}
	f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, nil, err
	}
	if err := f.Truncate(int64(keep)); err != nil {
		f.Close()
		return 0, nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return 0, nil, err
	}
	return lines / perPassage, f, nil
}
