package hub_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/hub"
)

// A local folder is used as it is, as from_pretrained does.
func ExampleFetch() {
	dir, err := hub.Fetch(context.Background(), "../testdata/fixtures/t5-tiny", hub.T5, hub.Options{Offline: true})
	fmt.Println(dir, err)
	// Output: ../testdata/fixtures/t5-tiny <nil>
}
