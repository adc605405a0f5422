package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The -tiny flag swaps the default models for the tiny random-weight
// checkpoints of the repository's testdata/fixtures: a quick offline run of
// every step, with meaningless queries and scores.
const (
	tinyGenerator    = "t5-tiny"
	tinyBase         = "distilbert-tiny"
	tinyRetriever2   = "bert-tiny"
	tinyCrossEncoder = "cross-encoder-tiny"
	modulePath       = "github.com/genq-go/genq"
)

// tinyCaveat is what -tiny says under its tables and when it starts.
const tinyCaveat = "-tiny: these are tiny random-weight checkpoints; they check the plumbing of every step, not quality. " +
	"Their queries are gibberish and their scores meaningless, so the rows say nothing about GenQ or GPL " +
	"(and often come out identical). Run without -tiny for real numbers."

// fixturesDir finds testdata/fixtures of the genq checkout: next to this
// source file (go run, go test), else above the working directory.
func fixturesDir() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	wd, _ := os.Getwd()
	return findFixtures(file, wd)
}

// findFixtures looks for testdata/fixtures two folders above the source file
// src, then in the module root above the folder wd ("" skips either).
func findFixtures(src, wd string) (string, error) {
	var tried []string
	if src != "" {
		d := filepath.Clean(filepath.Join(filepath.Dir(src), "..", "..", "testdata", "fixtures"))
		if isFixtures(d) {
			return d, nil
		}
		tried = append(tried, d)
	}
	if wd != "" {
		for d := wd; ; d = filepath.Dir(d) {
			if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(mod), "module "+modulePath+"\n") {
				f := filepath.Join(d, "testdata", "fixtures")
				if isFixtures(f) {
					return f, nil
				}
				tried = append(tried, f)
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("-tiny needs the tiny checkpoints testdata/fixtures/%s and testdata/fixtures/%s of a genq checkout (%s), but found none (looked next to the source, in %s, and above the working directory for the checkout's go.mod); run from inside a checkout, or pass model folders with -generator and -base instead",
		tinyGenerator, tinyBase, modulePath, strings.Join(tried, ", "))
}

// isFixtures reports whether d holds both tiny checkpoints.
func isFixtures(d string) bool {
	for _, m := range []string{tinyGenerator, tinyBase, tinyRetriever2, tinyCrossEncoder} {
		if _, err := os.Stat(filepath.Join(d, m, "config.json")); err != nil {
			return false
		}
	}
	return true
}

// useTiny points -generator, -base, -retrievers and -cross-encoder, where
// the command line left them at their defaults, at the tiny checkpoints, and
// says what such a run is for.
func (a *app) useTiny(set map[string]bool) error {
	dir, err := fixturesDir()
	if err != nil {
		return err
	}
	if !set["generator"] {
		a.generator = filepath.Join(dir, tinyGenerator)
	}
	if !set["base"] {
		a.base = filepath.Join(dir, tinyBase)
	}
	if !set["retrievers"] {
		a.retrievers = filepath.Join(dir, tinyBase) + "," + filepath.Join(dir, tinyRetriever2)
	}
	if !set["cross-encoder"] {
		a.crossEncoder = filepath.Join(dir, tinyCrossEncoder)
	}
	fmt.Fprintln(a.stderr, tinyCaveat)
	return nil
}
