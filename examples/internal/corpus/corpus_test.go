package corpus

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gzipped(t testing.TB, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.String()
}

const (
	docsJSONL = `{"title": "Go", "paragraphs": ["Go is a language.", " ", "It has goroutines."]}` + "\n" +
		`{"title": "Rust", "paragraphs": ["Rust has ownership."]}` + "\n"
	beirJSONL = `{"_id": "d1", "title": "Go", "text": "Go is a language.", "metadata": {}}` + "\n" +
		"\n" +
		`{"_id": 7, "title": "", "text": "  Untitled. "}` + "\n"
)

// wantDocs are the passages of docsJSONL: the blank paragraph 1 of Go is
// skipped, so paragraph 2 is at Position 1.
var wantDocs = []Passage{
	{ID: "Go#0", Title: "Go", Paragraph: 0, Text: "Go is a language.", Position: 0},
	{ID: "Go#2", Title: "Go", Paragraph: 2, Text: "It has goroutines.", Position: 1},
	{ID: "Rust#0", Title: "Rust", Paragraph: 0, Text: "Rust has ownership.", Position: 2},
}

func TestReadAll(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             []Passage
	}{
		{"programming format", "c.jsonl", docsJSONL, wantDocs},
		{"programming format, gzipped", "c.jsonl.gz", gzipped(t, docsJSONL), wantDocs},
		{"programming format, by its first line", "c.dat", docsJSONL, wantDocs},
		{"BEIR corpus: title and text joined (beir.Doc.Passage), numeric _id", "corpus.jsonl", beirJSONL, []Passage{
			{ID: "d1", Title: "Go", Text: "Go Go is a language.", Position: 0},
			{ID: "7", Title: "", Text: "Untitled.", Position: 1},
		}},
		{"BEIR corpus, gzipped", "corpus.jsonl.gz", gzipped(t, beirJSONL), []Passage{
			{ID: "d1", Title: "Go", Text: "Go Go is a language.", Position: 0},
			{ID: "7", Title: "", Text: "Untitled.", Position: 1},
		}},
		{"plain text: lines numbered with blanks", "c.txt", "first passage\n\n second passage \n", []Passage{
			{ID: "line 1#0", Title: "line 1", Text: "first passage", Position: 0},
			{ID: "line 3#0", Title: "line 3", Text: "second passage", Position: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(strings.NewReader(tc.data), tc.file)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)

			path := filepath.Join(t.TempDir(), tc.file)
			require.NoError(t, os.WriteFile(path, []byte(tc.data), 0o644))
			got, err = ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "ReadFile")
		})
	}
}

func TestReadAllErrors(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"empty", "c.txt", "\n \n", "holds no passages"},
		{"programming line not JSON", "c.jsonl", docsJSONL + "{oops\n", "line 3: not a JSON object"},
		{"BEIR line without _id", "corpus.jsonl", beirJSONL + `{"text": "x"}` + "\n", "line 4: no _id"},
		{"BEIR line without text", "corpus.jsonl", beirJSONL + `{"_id": "e", "title": " ", "text": ""}` + "\n", "line 4: no text"},
		{"programming line without paragraphs", "c.jsonl", docsJSONL + `{"title": "X"}` + "\n", "line 3: no _id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadAll(strings.NewReader(tc.data), tc.file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A Reader with OnBadLine reports each bad line with its reason and goes
// on; Positions count only the passages it yields. A bad first line does
// not decide the format of the others.
func TestReaderOnBadLine(t *testing.T) {
	data := `{"title": "no id", "text": "x"}` + "\n" +
		`{"_id": "a", "text": "first"}` + "\n" +
		"not json\n" +
		`{"_id": "b", "text": "  "}` + "\n" +
		`{"_id": "c", "text": "second"}` + "\n"
	rd, err := NewReader(strings.NewReader(data), "corpus.jsonl")
	require.NoError(t, err)
	var bad []BadLine
	rd.OnBadLine = func(b BadLine) { bad = append(bad, b) }
	var got []Passage
	for {
		p, err := rd.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, p)
	}
	require.NoError(t, rd.Close())
	assert.Equal(t, []Passage{
		{ID: "a", Text: "first", Position: 0},
		{ID: "c", Text: "second", Position: 1},
	}, got)
	require.Len(t, bad, 3)
	for i, want := range []struct {
		line int
		err  error
	}{{1, beir.ErrNoID}, {3, beir.ErrNotJSON}, {4, beir.ErrNoText}} {
		assert.Equal(t, want.line, bad[i].Line, "bad line %d", i)
		assert.Equal(t, "corpus.jsonl", bad[i].Name)
		assert.True(t, errors.Is(bad[i].Err, want.err), "bad line %d: %v, want %v", i, bad[i].Err, want.err)
		assert.Equal(t, strings.Split(data, "\n")[want.line-1], bad[i].Text)
	}
}

func FuzzReadAll(f *testing.F) {
	for _, s := range []struct {
		data  string
		jsonl bool
	}{
		{"first passage\n\nsecond passage\n", false},
		{`{"title": "Go", "paragraphs": ["Go is a language."]}` + "\n" + `{"title": "Rust", "paragraphs": []}`, true},
		{`{"title": "Go", "paragraphs": ["x"]}`, false},
		{gzipped(f, docsJSONL), false},
		{gzipped(f, docsJSONL), true},
		{beirJSONL, true},
		{"{not json\n", true},
	} {
		f.Add([]byte(s.data), s.jsonl)
	}
	const fuzzMax = 16 << 10 // a gzipped corpus expands at most about 1000-fold: 16 MiB
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		if len(data) > fuzzMax {
			return
		}
		name := "corpus.txt"
		if jsonl {
			name = "corpus.jsonl"
		}
		ps, err := ReadAll(bytes.NewReader(data), name)
		if err != nil {
			return
		}
		require.NotEmpty(t, ps)
		for i, p := range ps {
			require.NotEmpty(t, p.Text)
			require.Equal(t, strings.TrimSpace(p.Text), p.Text)
			require.GreaterOrEqual(t, p.Paragraph, 0)
			require.Equal(t, i, p.Position)
			require.NotEmpty(t, p.ID)
		}
	})
}
