package beir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCorpusLine(t *testing.T) {
	tests := []struct {
		name, line string
		want       Doc
		err        error
	}{
		{"BEIR record", `{"_id": "d1", "title": "T", "text": "body", "metadata": {"url": "x"}}`, Doc{"d1", "T", "body"}, nil},
		{"numeric _id keeps its literal", `{"_id": 12, "text": "body"}`, Doc{ID: "12", Text: "body"}, nil},
		{"title only is kept", `{"_id": "d", "title": "Only a title"}`, Doc{ID: "d", Title: "Only a title"}, nil},
		{"surrounding space and CR", "  {\"_id\": \"d\", \"text\": \"x\"}\r", Doc{ID: "d", Text: "x"}, nil},
		{"not JSON", `_id: d1`, Doc{}, ErrNotJSON},
		{"truncated JSON", `{"_id": "d1", "text": "bo`, Doc{}, ErrNotJSON},
		{"a JSON array", `["d1", "text"]`, Doc{}, ErrNotJSON},
		{"no _id", `{"title": "T", "text": "body"}`, Doc{}, ErrNoID},
		{"null _id", `{"_id": null, "text": "body"}`, Doc{}, ErrNoID},
		{"blank _id", `{"_id": " ", "text": "body"}`, Doc{}, ErrNoID},
		{"object _id", `{"_id": {"a": 1}, "text": "body"}`, Doc{}, ErrNoID},
		{"empty title and text", `{"_id": "d", "title": "", "text": " \n"}`, Doc{}, ErrNoText},
		{"no text field", `{"_id": "d"}`, Doc{}, ErrNoText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCorpusLine([]byte(tc.line))
			if tc.err != nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, tc.err), "%v, want %v", err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseQueryLine(t *testing.T) {
	tests := []struct {
		name, line string
		want       Query
		err        error
	}{
		{"query", `{"_id": "q1", "text": "what is go", "metadata": {}}`, Query{"q1", "what is go"}, nil},
		{"title is not a query's text; empty is kept", `{"_id": "q1", "title": "what is go"}`, Query{ID: "q1"}, nil},
		{"empty text as GenQ writes it", `{"_id": "genQ3", "text": "", "metadata": {}}`, Query{ID: "genQ3"}, nil},
		{"not JSON", `q1	what is go`, Query{}, ErrNotJSON},
		{"no _id", `{"text": "what is go"}`, Query{}, ErrNoID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQueryLine([]byte(tc.line))
			if tc.err != nil {
				assert.True(t, errors.Is(err, tc.err), "%v, want %v", err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseQrelsLine(t *testing.T) {
	tests := []struct {
		name, line string
		want       Qrel
		err        string
	}{
		{"plain", "q1\td1\t1", Qrel{"q1", "d1", 1}, ""},
		{"CRLF and grade 2", "q1\td1\t2\r\n", Qrel{"q1", "d1", 2}, ""},
		{"zero", "q1\td1\t0\n", Qrel{"q1", "d1", 0}, ""},
		{"quoted fields (csv.QUOTE_MINIMAL)", "genQ1\t\"doc\"\"1\"\t1\r\n", Qrel{"genQ1", `doc"1`, 1}, ""},
		{"quoted tab", "\"a\tb\"\td\t1", Qrel{"a\tb", "d", 1}, ""},
		{"two fields", "q1\td1", Qrel{}, "2 fields"},
		{"score not an integer", "q1\td1\t0.5", Qrel{}, "not an integer"},
		{"unclosed quote", "\"q1\td1\t1", Qrel{}, "no closing quote"},
		{"empty id", "\td1\t1", Qrel{}, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQrelsLine(tc.line)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// The expected lines are what Python 3's json.dumps and csv.writer print
// for the same values (run once to write this table):
//
//	json.dumps({"_id": "genQ1", "text": t, "metadata": {}})
//	csv.writer(f, delimiter="\t", quoting=csv.QUOTE_MINIMAL).writerow([qid, cid, 1])
func TestAppendMatchesPython(t *testing.T) {
	queries := []struct{ text, want string }{
		{"plain", `{"_id": "genQ1", "text": "plain", "metadata": {}}` + "\n"},
		{"quote\" back\\ nl\n tab\t cr\r bs\b ff\f nul\x00 del\x7f",
			`{"_id": "genQ1", "text": "quote\" back\\ nl\n tab\t cr\r bs\b ff\f nul\u0000 del\u007f", "metadata": {}}` + "\n"},
		{"é ü 中 😀 </script>&",
			`{"_id": "genQ1", "text": "\u00e9 \u00fc \u4e2d \ud83d\ude00 </script>&", "metadata": {}}` + "\n"},
	}
	for _, tc := range queries {
		assert.Equal(t, tc.want, string(AppendQuery(nil, Query{ID: "genQ1", Text: tc.text})))
	}
	var qrels []byte
	qrels = AppendQrelsHeader(qrels)
	qrels = AppendQrel(qrels, Qrel{"genQ1", `doc"1`, 1})
	qrels = AppendQrel(qrels, Qrel{"genQ2", "a\tb", 1})
	qrels = AppendQrel(qrels, Qrel{"genQ3", "Go#2", 1})
	assert.Equal(t, "query-id\tcorpus-id\tscore\r\ngenQ1\t\"doc\"\"1\"\t1\r\ngenQ2\t\"a\tb\"\t1\r\ngenQ3\tGo#2\t1\r\n", string(qrels))
}

func TestStripIsPythonStrip(t *testing.T) {
	// Python: " \x1c\x1fx\u00a0\u2003".strip() == "x"
	assert.Equal(t, "x", Strip(" \x1c\x1fx\u00a0\u2003"))
	assert.Equal(t, "a b", Strip("\t a b \n"))
}

// GenQ numbers the distinct stripped queries of each passage on from the
// last: passage d1's samples " a", "a ", "b" keep "a", "b" (genQ1, genQ2),
// d2's "c", "c" keep "c" (genQ3).
func TestGenQ(t *testing.T) {
	var g GenQ
	q, r, n := g.Append(nil, AppendQrelsHeader(nil), "d1", []string{" a", "a ", "b"})
	assert.Equal(t, 2, n)
	q, r, n = g.Append(q, r, "d2", []string{"c", "c"})
	assert.Equal(t, 1, n)
	assert.Equal(t, 4, g.Next)
	assert.Equal(t, `{"_id": "genQ1", "text": "a", "metadata": {}}`+"\n"+
		`{"_id": "genQ2", "text": "b", "metadata": {}}`+"\n"+
		`{"_id": "genQ3", "text": "c", "metadata": {}}`+"\n", string(q))
	assert.Equal(t, QrelsHeader+"\r\ngenQ1\td1\t1\r\ngenQ2\td1\t1\r\ngenQ3\td2\t1\r\n", string(r))

	// What GenQ writes reads back with GenericDataLoader's rules.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "corpus.jsonl"),
		append(AppendDoc(nil, Doc{ID: "d1", Text: "first"}), AppendDoc(nil, Doc{ID: "d2", Text: "second"})...), 0o644))
	require.NoError(t, os.WriteFile(QueriesPath(dir, DefaultPrefix), q, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Dir(QrelsPath(dir, DefaultPrefix, GenSplit)), 0o755))
	require.NoError(t, os.WriteFile(QrelsPath(dir, DefaultPrefix, GenSplit), r, 0o644))
	ds, err := LoadPrefix(dir, DefaultPrefix, GenSplit)
	require.NoError(t, err)
	assert.Equal(t, []Query{{"genQ1", "a"}, {"genQ2", "b"}, {"genQ3", "c"}}, ds.Queries)
	assert.Equal(t, map[string]map[string]int{"genQ1": {"d1": 1}, "genQ2": {"d1": 1}, "genQ3": {"d2": 1}}, ds.Qrels)
	assert.Equal(t, []Doc{{ID: "d1", Text: "first"}, {ID: "d2", Text: "second"}}, ds.Corpus)
	assert.Equal(t, filepath.Join(dir, "gen-queries.jsonl"), QueriesPath(dir, "gen"))
	assert.Equal(t, filepath.Join(dir, "gen-qrels", "train.tsv"), QrelsPath(dir, "gen", "train"))
}

func TestLoad(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, data := range files {
			path := filepath.Join(dir, name)
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
		}
		return dir
	}
	corpus := `{"_id": "d1", "title": "", "text": "one"}` + "\n" + `{"_id": "d2", "title": "", "text": "two"}` + "\n"
	queries := `{"_id": "q1", "text": "first"}` + "\n" + `{"_id": "q2", "text": "second"}` + "\n" + `{"_id": "q3", "text": "unjudged"}` + "\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []Query
		qrels map[string]map[string]int
		err   string
	}{
		{"queries in qrels order, unjudged left out", map[string]string{"corpus.jsonl": corpus, "queries.jsonl": queries,
			"qrels/test.tsv": QrelsHeader + "\nq2\td1\t1\nq1\td2\t2\nq1\td1\t0\nq2\td1\t1\n"},
			[]Query{{"q2", "second"}, {"q1", "first"}}, map[string]map[string]int{"q2": {"d1": 1}, "q1": {"d2": 2, "d1": 0}}, ""},
		{"no header", map[string]string{"corpus.jsonl": corpus, "queries.jsonl": queries, "qrels/test.tsv": "q1\td1\t1\n"},
			nil, nil, "no header"},
		{"judged query missing", map[string]string{"corpus.jsonl": corpus, "queries.jsonl": queries, "qrels/test.tsv": QrelsHeader + "\nq9\td1\t1\n"},
			nil, nil, `judges query "q9"`},
		{"duplicate document id", map[string]string{"corpus.jsonl": corpus + `{"_id": "d1", "text": "again"}` + "\n", "queries.jsonl": queries,
			"qrels/test.tsv": QrelsHeader + "\nq1\td1\t1\n"}, nil, nil, `line 3: _id "d1" was already used on line 1`},
		{"bad corpus line", map[string]string{"corpus.jsonl": corpus + "oops\n", "queries.jsonl": queries,
			"qrels/test.tsv": QrelsHeader + "\nq1\td1\t1\n"}, nil, nil, "corpus.jsonl line 3: not a JSON object"},
		{"no qrels", map[string]string{"corpus.jsonl": corpus, "queries.jsonl": queries}, nil, nil, "test.tsv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Load(write(t, tc.files), "test")
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, ds.Queries)
			assert.Equal(t, tc.qrels, ds.Qrels)
			assert.Len(t, ds.Corpus, 2)
		})
	}
}

// FuzzLines: the line parsers never panic; what they accept has an id; a
// query and a judgement written by AppendQuery and AppendQrel read back
// unchanged (Python's ASCII-escaped JSON is JSON Go reads the same).
func FuzzLines(f *testing.F) {
	for _, s := range []string{`{"_id": "d1", "title": "T", "text": "x"}`, `{"_id": 3}`, "q1\td1\t1", "\"a\"\"b\"\tc\t2\r\n", "{", `{"_id": "\ud83d"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if d, err := ParseCorpusLine(line); err == nil {
			require.NotEmpty(t, Strip(d.ID))
			require.NotEmpty(t, d.Passage())
		}
		if q, err := ParseQueryLine(line); err == nil {
			require.NotEmpty(t, Strip(q.ID))
		}
		if r, err := ParseQrelsLine(string(line)); err == nil {
			require.NotEmpty(t, r.QueryID)
			require.NotEmpty(t, r.CorpusID)
		}
		text := strings.ToValidUTF8(string(line), "\uFFFD")
		q, err := ParseQueryLine(AppendQuery(nil, Query{ID: "genQ1", Text: text}))
		require.NoError(t, err)
		require.Equal(t, Query{ID: "genQ1", Text: text}, q)
		if id := strings.TrimRight(text, "\r\n"); id != "" {
			r, err := ParseQrelsLine(string(AppendQrel(nil, Qrel{QueryID: id, CorpusID: "d", Score: 1})))
			require.NoError(t, err)
			require.Equal(t, Qrel{QueryID: id, CorpusID: "d", Score: 1}, r)
		}
	})
}
