package checkpoint_test

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

func TestReadGoldenSafetensors(t *testing.T) {
	g := testutil.LoadGolden(t, "t5-tiny")
	ids := g.T(t, "input_ids")
	if !ids.ShapeEquals(5, 64) || ids.I64 == nil {
		t.Fatalf("input_ids: got %v", ids)
	}
	h := g.T(t, "encoder.last_hidden_state")
	if !h.ShapeEquals(5, 64, 16) || len(h.F32) != 5*64*16 {
		t.Fatalf("encoder.last_hidden_state: got %v", h)
	}
}
