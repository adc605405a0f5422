package t5_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/t5"
)

// Load a query generator from the Hugging Face hub at a pinned revision,
// with a progress bar, as from_pretrained(name, revision=...) does; Ctrl-C
// stops the download.
func ExampleLoad() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, err := t5.Load(ctx, "BeIR/query-gen-msmarco-t5-base-v1", t5.LoadOptions{Hub: hub.Options{
		Revision:     "main",
		Progress:     os.Stderr,
		StallTimeout: 30 * time.Second, // a slow connection
	}})
	if err != nil {
		log.Fatal(err)
	}
	_ = m
}
