package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResumeTSV(t *testing.T) {
	passages := []Passage{{Text: "alpha\tone"}, {Text: "beta"}, {Text: "gamma"}}
	block := func(i int) string {
		p := clean(passages[i].Text)
		return "q1 " + p + "\t" + p + "\nq2 " + p + "\t" + p + "\n"
	}
	tests := []struct {
		name     string
		existing string
		wantDone int
		wantKeep string
		wantErr  bool
	}{
		{"new file", "", 0, "", false},
		{"one block", block(0), 1, block(0), false},
		{"partial line cut", block(0) + "q1 beta\tbe", 1, block(0), false},
		{"partial block cut", block(0) + strings.SplitAfter(block(1), "\n")[0], 1, block(0), false},
		{"all done", block(0) + block(1) + block(2), 3, block(0) + block(1) + block(2), false},
		{"other corpus", "q\tsomething else\n", 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "generated_queries.tsv")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			done, f, err := resumeTSV(path, passages, 2)
			if tc.wantErr {
				if err == nil {
					f.Close()
					t.Fatal("want an error for a file from another corpus")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if done != tc.wantDone {
				t.Errorf("done = %d, want %d", done, tc.wantDone)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.wantKeep {
				t.Errorf("file after resume = %q, want %q", got, tc.wantKeep)
			}
		})
	}
}

func TestReadCorpusBundled(t *testing.T) {
	ps, err := readCorpus(filepath.Join("data", "programming.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]int{}
	for _, p := range ps {
		titles[p.Title]++
		if len(p.Text) <= 100 {
			t.Errorf("%s: paragraph of %d characters, want > 100", p.ID(), len(p.Text))
		}
	}
	if len(titles) != 30 {
		t.Errorf("%d technologies, want 30", len(titles))
	}
	for title, n := range titles {
		if n < 8 {
			t.Errorf("%s: %d paragraphs, want at least 8", title, n)
		}
	}
}

func TestReadCorpusPlainText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "corpus.txt")
	os.WriteFile(path, []byte("first passage\n\nsecond passage\n"), 0o644)
	ps, err := readCorpus(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Text != "first passage" || ps[1].Text != "second passage" {
		t.Fatalf("got %+v", ps)
	}
}
