package beir

import (
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultPrefix is the file-name prefix BEIR's QueryGenerator.generate
// writes under by default.
const DefaultPrefix = "gen"

// GenSplit is the qrels split BEIR's GenQ writes: <prefix>-qrels/train.tsv.
const GenSplit = "train"

// QueriesPath is the queries file of the dataset in dir under prefix:
// dir/<prefix>-queries.jsonl, or dir/queries.jsonl for prefix "", the
// names GenericDataLoader(dir, prefix) reads.
func QueriesPath(dir, prefix string) string {
	return filepath.Join(dir, withPrefix(prefix, "queries.jsonl"))
}

// QrelsPath is the qrels file of split in dir under prefix:
// dir/<prefix>-qrels/<split>.tsv, or dir/qrels/<split>.tsv for prefix "".
func QrelsPath(dir, prefix, split string) string {
	return filepath.Join(dir, withPrefix(prefix, "qrels"), split+".tsv")
}

func withPrefix(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "-" + name
}

// GenQID is the id BEIR's GenQ gives its n-th generated query, counting
// from 1 over the whole corpus: "genQ<n>".
func GenQID(n int) string { return "genQ" + strconv.Itoa(n) }

// Distinct returns the queries BEIR's GenQ keeps of one passage's samples:
// each stripped (Strip), each distinct text once, in the order of first
// occurrence (BEIR's set has no reproducible order; see the package
// comment). An empty text is kept, as BEIR keeps it.
func Distinct(samples []string) []string {
	seen := make(map[string]bool, len(samples))
	out := make([]string, 0, len(samples))
	for _, s := range samples {
		s = Strip(s)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// GenQ numbers generated queries as BEIR's QueryGenerator does and
// formats them as its files hold them. Next is the number of the next
// id; the zero GenQ starts at genQ1. Passages must be added in corpus
// order for the ids to be BEIR's: a pipeline that generates in parallel
// numbers the passages in one ordered pass afterwards (len(Distinct(s))
// is how many ids a passage takes).
type GenQ struct {
	Next int
}

// Append adds the queries sampled for corpusID: it appends to queries one
// line of <prefix>-queries.jsonl, and to qrels one line of
// <prefix>-qrels/train.tsv (score 1), for each query Distinct keeps, and
// returns both buffers and the number of queries added.
func (g *GenQ) Append(queries, qrels []byte, corpusID string, samples []string) ([]byte, []byte, int) {
	if g.Next < 1 {
		g.Next = 1
	}
	kept := Distinct(samples)
	for _, q := range kept {
		id := GenQID(g.Next)
		g.Next++
		queries = AppendQuery(queries, Query{ID: id, Text: q})
		qrels = AppendQrel(qrels, Qrel{QueryID: id, CorpusID: corpusID, Score: 1})
	}
	return queries, qrels, len(kept)
}

// AppendQuery appends q as one line of a BEIR queries file, byte for byte
// as BEIR's write_to_json writes it (json.dump with its default ", " and
// ": " separators and ASCII escapes, an empty "metadata", then "\n").
func AppendQuery(dst []byte, q Query) []byte {
	dst = append(dst, `{"_id": `...)
	dst = appendPyString(dst, q.ID)
	dst = append(dst, `, "text": `...)
	dst = appendPyString(dst, q.Text)
	return append(dst, ", \"metadata\": {}}\n"...)
}

// AppendDoc appends d as one line of a corpus.jsonl, in the same JSON
// style as AppendQuery: {"_id": ..., "title": ..., "text": ...}.
func AppendDoc(dst []byte, d Doc) []byte {
	dst = append(dst, `{"_id": `...)
	dst = appendPyString(dst, d.ID)
	dst = append(dst, `, "title": `...)
	dst = appendPyString(dst, d.Title)
	dst = append(dst, `, "text": `...)
	dst = appendPyString(dst, d.Text)
	return append(dst, "}\n"...)
}

// AppendQrelsHeader appends the header line of a qrels file as BEIR's
// write_to_tsv writes it (csv.writer, whose lines end in "\r\n").
func AppendQrelsHeader(dst []byte) []byte {
	return append(dst, QrelsHeader+"\r\n"...)
}

// AppendQrel appends r as one line of a qrels file, as BEIR's
// write_to_tsv writes it: csv.writer with a tab delimiter and
// QUOTE_MINIMAL (a field holding a tab, a quote or a line break is
// quoted), lines ending in "\r\n".
func AppendQrel(dst []byte, r Qrel) []byte {
	dst = appendTSVField(dst, r.QueryID)
	dst = append(dst, '\t')
	dst = appendTSVField(dst, r.CorpusID)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(r.Score), 10)
	return append(dst, "\r\n"...)
}

func appendTSVField(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, "\t\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(s, `"`, `""`)...)
	return append(dst, '"')
}

// appendPyString appends s as Python's json.dumps writes a str with
// ensure_ascii: printable ASCII as is, except " and \; \n \r \t \b \f
// as such; any other character as \uXXXX (lower-case hex, a surrogate
// pair beyond U+FFFF). Invalid UTF-8 becomes U+FFFD.
func appendPyString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	u := func(dst []byte, r rune) []byte {
		return append(dst, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
	}
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r == '\b':
			dst = append(dst, `\b`...)
		case r == '\f':
			dst = append(dst, `\f`...)
		case r >= 0x20 && r <= 0x7e:
			dst = append(dst, byte(r))
		case r > 0xffff:
			r -= 0x10000
			dst = u(dst, 0xd800+(r>>10))
			dst = u(dst, 0xdc00+(r&0x3ff))
		case r == utf8.RuneError:
			dst = u(dst, utf8.RuneError)
		default:
			dst = u(dst, r)
		}
	}
	return append(dst, '"')
}
